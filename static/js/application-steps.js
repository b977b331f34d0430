/* Progressive enhancement for the application steps.
 *
 * The server is the source of truth: without this script, saving re-renders the page with the
 * questions that apply, and the server drops answers to questions that do not. With it, the
 * conditional questions of the AI Act questionnaire (data-show-if, the rule set's own condition
 * language) and the conditional fields of the other steps (data-show-when="name=value") appear
 * and disappear as the answers change.
 */
(function () {
  "use strict";

  function answerOf(container) {
    var boxes = container.querySelectorAll("input[type=checkbox]");
    var checked = container.querySelectorAll("input:checked");
    if (boxes.length) {
      var values = [];
      checked.forEach(function (input) { values.push(input.value); });
      return values.length ? values : null;
    }
    return checked.length ? checked[0].value : null;
  }

  // Mirrors compliance/ai_act/engine.py::_evaluate for answer conditions (show_if never uses others).
  function evaluate(cond, answers) {
    if ("all" in cond) { return cond.all.every(function (c) { return evaluate(c, answers); }); }
    if ("any" in cond) { return cond.any.some(function (c) { return evaluate(c, answers); }); }
    if ("not" in cond) { return !evaluate(cond.not, answers); }
    if ("answer" in cond) {
      var value = answers[cond.answer];
      if (value === undefined || value === null) { return false; }
      if ("equals" in cond) { return value === cond.equals; }
      if ("in" in cond) { return cond.in.indexOf(value) >= 0; }
      if ("includes" in cond) { return value.indexOf(cond.includes) >= 0; }
      if ("includes_any" in cond) {
        return cond.includes_any.some(function (v) { return value.indexOf(v) >= 0; });
      }
    }
    return false;
  }

  function refreshQuestions(form, live) {
    // One ordered pass, like the engine: only answers to visible questions count.
    var answers = {};
    var appeared = 0;
    form.querySelectorAll("[data-question]").forEach(function (question) {
      var cond = question.dataset.showIf ? JSON.parse(question.dataset.showIf) : null;
      var visible = !cond || evaluate(cond, answers);
      if (visible && question.hidden) { appeared += 1; }
      question.hidden = !visible;
      if (visible) {
        var value = answerOf(question);
        if (value !== null) { answers[question.dataset.question] = value; }
      }
    });
    if (live && appeared) {
      live.textContent = appeared === 1 ? live.dataset.one : live.dataset.many.replace("%s", appeared);
    }
  }

  function enforceExclusive(question, changed) {
    // "None of these" cannot be combined with other options (the server refuses it too).
    var exclusive = (question.dataset.exclusive || "").split(" ").filter(Boolean);
    if (!exclusive.length || changed.type !== "checkbox" || !changed.checked) { return; }
    var changedIsExclusive = exclusive.indexOf(changed.value) >= 0;
    question.querySelectorAll("input[type=checkbox]:checked").forEach(function (input) {
      if (input === changed) { return; }
      if (changedIsExclusive || exclusive.indexOf(input.value) >= 0) { input.checked = false; }
    });
  }

  function setUpQuestionnaire(form) {
    var live = form.querySelector("[data-live]");
    form.addEventListener("change", function (event) {
      var question = event.target.closest("[data-question]");
      if (question) { enforceExclusive(question, event.target); }
      refreshQuestions(form, live);
    });
    refreshQuestions(form, null);
  }

  function setUpConditionalFields(form) {
    var dependants = form.querySelectorAll("[data-show-when]");
    if (!dependants.length) { return; }
    function refresh() {
      dependants.forEach(function (element) {
        var parts = element.dataset.showWhen.split("=");
        var controls = form.querySelectorAll("[name='" + parts[0] + "']");
        var current = null;
        controls.forEach(function (control) {
          if ((control.type === "radio" || control.type === "checkbox") ? control.checked : true) {
            current = control.value;
          }
        });
        var field = element.closest(".field") || element;
        // Never hide a field that has an error or a value: the person must be able to see it.
        var keep = element.value || field.classList.contains("field-error");
        field.hidden = !(current === parts[1] || keep);
      });
    }
    form.addEventListener("change", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var questionnaire = document.getElementById("ai-act-form");
    if (questionnaire) { setUpQuestionnaire(questionnaire); }
    document.querySelectorAll("form").forEach(setUpConditionalFields);
  });
}());
