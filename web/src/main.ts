// The board's page: routes to views. The job list is in the first page's script; every other
// view loads its own chunk when first shown (the wallet's views bring viem with them).

import { fallback, lazy, route, start } from "./router";
import { h } from "./dom";
import { jobsView } from "./views/jobs";
import { mountWalletButton } from "./wallet/button";

const job = lazy(() => import("./views/job").then((m) => m.jobView));
const editJob = lazy(() => import("./views/post").then((m) => m.editJobView));
const jobApplications = lazy(() => import("./views/applications").then((m) => m.jobApplicationsView));

route("/", jobsView);
// A job's pages name its chain (ids repeat on every chain); without one they mean the first
// board, as links did before the page knew chains. The fixed words come first so that
// `/jobs/7/edit` is job 7's edit page, not job "edit" on chain 7.
route("/jobs/:id", job);
route("/jobs/:id/edit", editJob);
route("/jobs/:id/applications", jobApplications);
route("/jobs/:chain/:id", job);
route("/jobs/:chain/:id/edit", editJob);
route("/jobs/:chain/:id/applications", jobApplications);
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
