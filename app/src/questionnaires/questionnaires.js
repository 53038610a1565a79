// Questionnaires (inlined in every page's head with the CSP nonce; pages are swapped by
// navigation.js, so everything works by event delegation on the document).
// - Conditional items: an item with `data-when` ("all|any" RS "qN US op US value" ...) is shown
//   while its conditions hold; a hidden question counts as unanswered, as on the server.
// - Checks as the patient goes: a number or date out of range, or not a number, gets the same
//   message the server would give, tied to the field by aria-describedby.
(function () {
  "use strict";
  function valuesOf(form, name) {
    var out = [];
    var fields = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.closest("[hidden]")) return [];
      if ((f.type === "radio" || f.type === "checkbox") && !f.checked) continue;
      if (f.value.trim() !== "") out.push(f.value.trim());
    }
    var other = form.querySelector('[name="' + name + '.other"]');
    if (other && other.value.trim() !== "" && !other.closest("[hidden]")) out.push(other.value.trim());
    return out;
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) return x < y ? -1 : x > y ? 1 : 0;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function holds(form, condition) {
    var parts = condition.split("\u001f");
    var given = valuesOf(form, parts[0]), op = parts[1], value = parts[2];
    if (op === "exists") return (given.length > 0) === (value === "true");
    if (op === "!=") return !given.some(function (g) { return compare(g, value) === 0; });
    return given.some(function (g) {
      var c = compare(g, value);
      return op === "=" ? c === 0 : op === ">" ? c > 0 : op === "<" ? c < 0 : op === ">=" ? c >= 0 : op === "<=" ? c <= 0 : false;
    });
  }
  function update(form) {
    var items = form.querySelectorAll("[data-when]");
    for (var i = 0; i < items.length; i++) {
      var parts = items[i].getAttribute("data-when").split("\u001e");
      var behavior = parts.shift();
      var results = parts.map(function (c) { return holds(form, c); });
      var shown = behavior === "any" ? results.some(Boolean) : results.every(Boolean);
      items[i].hidden = !shown;
    }
  }
  function check(field) {
    if (!field.id || !/^q\d+$/.test(field.id) || field.type !== "number" && field.type !== "date") return;
    var error = document.getElementById(field.id + "-error");
    if (!error) return;
    var v = field.validity, message = "";
    if (v.badInput) message = field.type === "date" ? "Enter a date, like 2026-03-31." : "Enter a number, like 72.5.";
    else if (v.stepMismatch) message = "Enter a whole number, like 3.";
    else if (v.rangeUnderflow) message = "Enter " + field.min + " or more.";
    else if (v.rangeOverflow) message = "Enter " + field.max + " or less.";
    error.textContent = message;
    if (message) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", error.id);
    } else {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    }
  }
  function onChange(event) {
    var form = event.target.closest && event.target.closest("form.questionnaire");
    if (!form) return;
    update(form);
    if (event.type === "change") check(event.target);
  }
  document.addEventListener("input", onChange);
  document.addEventListener("change", onChange);
})();
