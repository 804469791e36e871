// A job's history: each version of the posting, when it was published, and what it changed
// from the one before. The diff is pure so it is unit-tested.

import { h } from "../../dom";
import { date, relative, salaryRange } from "../../format";
import type { PostingFields } from "../../posting";

/** The fields of a JobRevision the history shows. */
export const REVISION_FIELDS = `title company location tags description salaryCurrency salaryMin salaryMax deadline deadlineUnix blockNumber txHash timestamp`;

/** A version as REVISION_FIELDS returns it. */
export interface Revision extends PostingFields {
  blockNumber: string;
  txHash: string;
  timestamp: string;
}

/** One changed field: its name and, where short enough to read, the old and new value. */
export interface Change {
  field: string;
  from?: string;
  to?: string;
}

const pay = (revision: Revision) => salaryRange(revision.salaryCurrency, revision.salaryMin, revision.salaryMax) ?? "not disclosed";
const deadline = (revision: Revision) =>
  revision.deadline ? date(revision.deadline) : revision.deadlineUnix ? "after the year 9999" : "none";
const orNone = (text: string) => text || "(none)";

/** What `next` changed from `previous`, field by field (the description only as "edited"). */
export function revisionChanges(previous: Revision, next: Revision): Change[] {
  const changes: Change[] = [];
  const compare = (field: string, from: string, to: string) => {
    if (from !== to) changes.push({ field, from, to });
  };
  compare("Title", previous.title, next.title);
  compare("Pay", pay(previous), pay(next));
  compare("Company", orNone(previous.company), orNone(next.company));
  compare("Location", orNone(previous.location), orNone(next.location));
  compare("Tags", orNone(previous.tags.join(", ")), orNone(next.tags.join(", ")));
  compare("Deadline", deadline(previous), deadline(next));
  if (previous.description !== next.description) changes.push({ field: "Description" });
  return changes;
}

/** The history as a collapsible list, oldest version first. */
export function revisionHistory(revisions: Revision[], limit: number): HTMLElement {
  const items = revisions.map((revision, i) => {
    const previous = i > 0 ? revisions[i - 1] : undefined;
    const changes = previous ? revisionChanges(previous, revision) : [];
    return h(
      "li",
      { class: "revision", "data-testid": "revision" },
      h(
        "p",
        { class: "revision-head" },
        h("strong", null, previous ? "Updated" : "Posted"),
        " ",
        h("time", { datetime: revision.timestamp, title: relative(revision.timestamp) }, date(revision.timestamp)),
        h("span", { class: "muted" }, ` · block ${revision.blockNumber}`),
      ),
      previous &&
        (changes.length === 0
          ? h("p", { class: "muted" }, "No visible change.")
          : h(
              "ul",
              { class: "changes" },
              changes.map((change) =>
                h(
                  "li",
                  null,
                  h("span", { class: "change-field" }, change.field),
                  change.from === undefined ? " edited" : [": ", h("del", null, change.from), " → ", h("ins", null, change.to ?? "")],
                ),
              ),
            )),
    );
  });
  const more = revisions.length >= limit ? h("p", { class: "hint" }, `Showing the first ${limit} versions.`) : null;
  const label = revisions.length === 1 ? "1 version (never updated)" : `${revisions.length} versions`;
  return h(
    "details",
    { class: "revisions card", "data-testid": "revisions" },
    h("summary", null, h("span", { class: "summary-title" }, "History"), " ", h("span", { class: "muted" }, label)),
    h("ol", { class: "revision-list" }, items),
    more,
  );
}
