// The board's page: routes to views. Visitors' views read the API; wallet views also write
// through the browser wallet.

import { fallback, route, start } from "./router";
import { h } from "./dom";
import { jobsView } from "./views/jobs";
import { jobView } from "./views/job";
import { employerView } from "./views/employer";
import { myApplicationsView } from "./views/me";
import { dashboardView } from "./views/dashboard";
import { editJobView, postJobView } from "./views/post";
import { jobApplicationsView } from "./views/applications";
import { verifyView } from "./views/verify";
import { mountWalletButton } from "./wallet/button";

route("/", jobsView);
route("/jobs/:id", jobView);
route("/jobs/:id/edit", editJobView);
route("/jobs/:id/applications", jobApplicationsView);
route("/employers/:address", employerView);
route("/me", myApplicationsView);
route("/dashboard", dashboardView);
route("/post", postJobView);
route("/verify", verifyView);
fallback(() =>
  h("section", { class: "empty" }, h("h1", null, "Page not found"), h("p", null, h("a", { href: "/" }, "See the open jobs"))),
);

const wallet = document.getElementById("wallet");
if (wallet) mountWalletButton(wallet);
start();
