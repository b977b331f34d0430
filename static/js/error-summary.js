/* The error summary (the GOV.UK pattern).
 *
 * A page that opens with an error summary (after a save that was refused, or saved with problems)
 * moves the focus to it, so that a screen reader reads the problems first and a keyboard user starts
 * from them. A link in the summary moves the focus to its field and scrolls the field's label (or the
 * legend of its group) into view, where following the link alone would hide the label above the top.
 * Without this script the summary is still at the top of the form and its links still lead to the fields.
 */
(function () {
  "use strict";

  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  summary.focus();

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!field) { return; }
    event.preventDefault();
    var group = field.closest("fieldset");
    var caption = (group && group.querySelector("legend")) ||
      document.querySelector("label[for='" + field.id + "']") || field;
    caption.scrollIntoView();
    field.focus({ preventScroll: true });
  });
}());
