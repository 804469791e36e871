// Client-side routes over the History API. The server answers every page path with the same
// index.html, so a shared or reloaded URL lands on the right view.

import { replace } from "./dom";

/** What a view gets: the path's parameters, the query string, and a signal aborted when the
 * reader navigates away (views stop their subscriptions and timers on it). */
export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  signal: AbortSignal;
}

/** A view renders a page into a node. */
export type View = (context: RouteContext) => Node | Promise<Node>;

interface Route {
  pattern: RegExp;
  names: string[];
  view: View;
}

const routes: Route[] = [];
let current: AbortController | null = null;
/** Whether a view has been shown yet: the first one keeps the browser's own focus and scroll. */
let shown = false;
let notFound: View = () => document.createTextNode("Not found");

/** A view whose code loads when it is first shown (a chunk of its own), so the first page
 * carries only what it renders. */
export function lazy(load: () => Promise<View>): View {
  let loaded: Promise<View> | null = null;
  return async (context) => {
    loaded ??= load();
    loaded.catch(() => (loaded = null));
    return (await loaded)(context);
  };
}

/** Registers `view` for `path`, whose `:name` segments become parameters. */
export function route(path: string, view: View): void {
  const names: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      if (segment.startsWith(":")) {
        names.push(segment.slice(1));
        return "([^/]+)";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  routes.push({ pattern: new RegExp(`^${source}/?$`), names, view });
}

/** The view shown for paths no route matches. */
export function fallback(view: View): void {
  notFound = view;
}

/** Goes to `url` (a path with an optional query) as a new history entry and renders it. */
export function navigate(url: string): void {
  history.pushState(null, "", url);
  void render();
}

/** Changes the query string of the current entry without rendering again (filters, search). */
export function replaceQuery(query: URLSearchParams): void {
  const search = query.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}`);
}

/** Renders the view for the current location into `<main>`. */
export async function render(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const main = document.getElementById("main");
  if (!main) return;
  const path = decodeURI(location.pathname);
  let view = notFound;
  const params: Record<string, string> = {};
  for (const candidate of routes) {
    const match = candidate.pattern.exec(path);
    if (match) {
      candidate.names.forEach((name, i) => (params[name] = match[i + 1] ?? ""));
      view = candidate.view;
      break;
    }
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>(".nav a")) {
    link.toggleAttribute("aria-current", link.pathname === location.pathname);
  }
  try {
    const node = await view({ params, query: new URLSearchParams(location.search), signal: controller.signal });
    if (controller.signal.aborted) return;
    replace(main, node);
    const heading = main.querySelector("h1")?.textContent?.trim();
    document.title = heading ? `${heading} · Job board` : "Job board";
    if (shown) {
      // After an in-page navigation, keyboard and screen-reader users start at the new content,
      // as they would after a page load.
      main.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
    shown = true;
  } catch (error) {
    if (controller.signal.aborted) return;
    const message = error instanceof Error ? error.message : String(error);
    const failure = document.createElement("div");
    failure.className = "error-box";
    failure.setAttribute("role", "alert");
    failure.textContent = `This page could not be loaded: ${message}`;
    replace(main, failure);
  }
}

/** Follows same-origin links without a page load, and the back/forward buttons. */
export function start(): void {
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    const link = (event.target as Element | null)?.closest?.("a");
    if (!link || link.target || link.hasAttribute("download") || link.origin !== location.origin) return;
    if (link.pathname.startsWith("/graphql")) return;
    event.preventDefault();
    if (link.pathname === location.pathname && link.search === location.search) return;
    navigate(link.pathname + link.search);
  });
  addEventListener("popstate", () => void render());
  void render();
}
