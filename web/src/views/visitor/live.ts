// New jobs arrive through the activity subscription but never reshuffle the list under the
// reader: they are counted in a banner ("3 new jobs"), and the list reloads when it is clicked.

import { h } from "../../dom";
import { subscribe } from "../../graphql";

// Every chain's new jobs (no `chainId`): the list decides which belong in it.
const NEW_JOBS = `subscription NewJobs { activity(where: { kind_in: [JOB_POSTED] }) { kind chainId jobId } }`;

interface NewJobEvent {
  activity: { kind: string; chainId: string; jobId: string | null };
}

/** What the banner asks of its list. */
export interface BannerOptions {
  /** Whether a chain's new job belongs in the list as it is filtered (and is not shown already). */
  relevant: (chainId: string, jobId: string) => Promise<boolean>;
  /** Reloads the list's first page. */
  reload: () => void;
  signal: AbortSignal;
}

/** "1 new job", "3 new jobs". */
export function newJobsLabel(count: number): string {
  return `${count} new job${count === 1 ? "" : "s"} · Show`;
}

/** The banner, live until `signal` aborts; `reset` forgets the counted jobs (after a reload). */
export function newJobsBanner(options: BannerOptions): { element: HTMLElement; reset(): void } {
  const seen = new Set<string>();
  const fresh = new Set<string>();
  const button = h("button", { type: "button", class: "new-jobs", "data-testid": "new-jobs", hidden: true });
  const element = h("div", { class: "live-banner", role: "status", "aria-live": "polite" }, button);

  const reset = () => {
    fresh.clear();
    button.hidden = true;
    button.textContent = "";
  };
  button.addEventListener("click", () => {
    reset();
    options.reload();
  });

  subscribe<NewJobEvent>(
    NEW_JOBS,
    {},
    async ({ activity }) => {
      const id = activity.jobId;
      const key = `${activity.chainId}/${id}`;
      if (activity.kind !== "JOB_POSTED" || id === null || seen.has(key)) return;
      seen.add(key);
      let relevant: boolean;
      try {
        relevant = await options.relevant(activity.chainId, id);
      } catch {
        // Cannot tell: count it, the reload will show what matches.
        relevant = true;
      }
      if (options.signal.aborted || !relevant) return;
      fresh.add(key);
      button.textContent = newJobsLabel(fresh.size);
      button.hidden = false;
    },
    options.signal,
  );
  return { element, reset };
}
