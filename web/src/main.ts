// The board's page: routes to views. The job list is in the first page's script; every other
// view loads its own chunk when first shown (the wallet's views bring viem with them).

import { fallback, lazy, route, start } from "./router";
import { h } from "./dom";
import { jobsView } from "./views/jobs";
import { mountWalletButton } from "./wallet/button";

route("/", jobsView);
route("/jobs/:id", lazy(() => import("./views/job").then((m) => m.jobView)));
route("/jobs/:id/edit", lazy(() => import("./views/post").then((m) => m.editJobView)));
route("/jobs/:id/applications", lazy(() => import("./views/applications").then((m) => m.jobApplicationsView)));
route("/employers/:address", lazy(() => import("./views/employer").then((m) => m.employerView)));
route("/me", lazy(() => import("./views/me").then((m) => m.myApplicationsView)));
route("/dashboard", lazy(() => import("./views/dashboard").then((m) => m.dashboardView)));
route("/post", lazy(() => import("./views/post").then((m) => m.postJobView)));
route("/verify", lazy(() => import("./views/verify").then((m) => m.verifyView)));
fallback(() =>
  h("section", { class: "empty" }, h("h1", null, "Page not found"), h("p", null, h("a", { href: "/" }, "See the open jobs"))),
);

const wallet = document.getElementById("wallet");
if (wallet) mountWalletButton(wallet);
start();
