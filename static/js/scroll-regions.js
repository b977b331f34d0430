/* Tables wider than the screen scroll inside themselves or inside their .table-scroll box, and preformatted text
 * (a job script, commands) inside its <pre> (static/css/portal.css, WCAG 1.4.10). A keyboard user must be able to
 * scroll them too: one that overflows gets tabindex="0" (and loses it when the window grows so that it fits
 * again), so it takes the focus and the arrow keys scroll it. Without this script such a box still scrolls with a
 * pointer or a touch. */
(function () {
  "use strict";

  function mark() {
    document.querySelectorAll("main table, main .table-scroll, main pre").forEach(function (table) {
      var overflows = table.scrollWidth > table.clientWidth + 1;
      if (overflows && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.setAttribute("data-scroll-focus", "");
      } else if (!overflows && table.hasAttribute("data-scroll-focus")) {
        table.removeAttribute("tabindex");
        table.removeAttribute("data-scroll-focus");
      }
    });
  }

  mark();
  window.addEventListener("resize", mark);
}());
