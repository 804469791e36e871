// Job descriptions are Markdown written by anyone, so they are rendered with raw HTML off,
// links allowed only to http(s) and mailto, and images turned into links. This is the only
// HTML string the page ever inserts.

import MarkdownIt from "markdown-it";

/** Schemes a link may use; anything else (javascript:, data:, relative paths) stays text. */
const SAFE_LINK = /^(?:https?:|mailto:)/i;

/** Every link leaves the board without passing the page or a referrer, and is not endorsed. */
const LINK_REL = "noopener noreferrer nofollow";

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });

// markdown-it calls this for every link, autolink, linkified URL and image source, after
// decoding entities and percent-encoding; a rejected one is left as the literal source text.
md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim());

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet("rel", LINK_REL);
    const target = token.attrIndex("target");
    if (target >= 0) token.attrs?.splice(target, 1);
  }
  return self.renderToken(tokens, idx, options);
};

// The CSP blocks remote images anyway; a link to the image (named by its alt text) keeps the
// information without loading anything.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx];
  if (!token) return "";
  const src = token.attrGet("src");
  const alt = md.utils.escapeHtml(token.content || "image");
  if (typeof src !== "string" || !SAFE_LINK.test(src)) return alt;
  return `<a href="${md.utils.escapeHtml(src)}" rel="${LINK_REL}">${alt}</a>`;
};

// The page's own title is the <h1>; a description's headings sit one level below it.
const shiftHeading = (tokens: { tag: string }[], idx: number): void => {
  const token = tokens[idx];
  const level = token ? Number(token.tag.slice(1)) : NaN;
  if (token && level >= 1 && level <= 6) token.tag = `h${Math.min(6, level + 1)}`;
};
md.renderer.rules.heading_open = (tokens, idx, options, _env, self) => {
  shiftHeading(tokens, idx);
  return self.renderToken(tokens, idx, options);
};
md.renderer.rules.heading_close = (tokens, idx, options, _env, self) => {
  shiftHeading(tokens, idx);
  return self.renderToken(tokens, idx, options);
};

/** The safe HTML of a Markdown text (pure, so it is unit-tested without a DOM). */
export function markdownToHtml(text: string): string {
  return md.render(text);
}

/** A `<div class="markdown">` holding the rendered text: the page's only use of innerHTML. */
export function renderMarkdown(text: string): HTMLElement {
  const container = document.createElement("div");
  container.className = "markdown";
  container.innerHTML = markdownToHtml(text);
  return container;
}
