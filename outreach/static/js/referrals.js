/* Referral rows: agencies filtered by the chosen type; follow-up date from the type's usual days. */
(function () {
  "use strict";

  function addDays(isoDate, days) {
    var parts = isoDate.split("-").map(Number);
    var moment = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] + days));
    return moment.toISOString().slice(0, 10);
  }

  function filterAgencies(row, keepSelected) {
    var type = row.querySelector("[data-referral-type]").value;
    var agency = row.querySelector("[data-referral-agency]");
    Array.prototype.forEach.call(agency.options, function (option) {
      if (!option.value) { return; }
      var takes = (option.getAttribute("data-types") || "").split(" ");
      var fits = !type || takes.indexOf(type) !== -1;
      option.hidden = !fits;
      option.disabled = !fits && !(keepSelected && option.selected);
      if (!fits && option.selected && !keepSelected) { agency.value = ""; }
    });
  }

  function fillFollowUp(holder, row) {
    var type = row.querySelector("[data-referral-type]").value;
    var input = row.querySelector("[data-referral-follow-up]");
    if (!input) { return; }
    var days = JSON.parse(holder.getAttribute("data-default-days") || "{}")[type];
    var filled = input.getAttribute("data-filled") || "";
    if (input.value && input.value !== filled) { return; }
    var value = type && days !== undefined ? addDays(holder.getAttribute("data-today"), days) : "";
    input.value = value;
    input.setAttribute("data-filled", value);
  }

  function showFollowUp(holder) {
    var form = holder.closest("form");
    var mode = form ? form.querySelector('input[name="participant_mode"]:checked') : null;
    var anonymous = mode !== null && mode.value === "anonymous";
    holder.querySelectorAll("[data-follow-up-field]").forEach(function (field) {
      field.hidden = anonymous;
    });
  }

  function setUp(holder) {
    var rows = holder.querySelectorAll("[data-referral-row]");
    rows.forEach(function (row) { filterAgencies(row, true); });
    holder.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-referral-type")) { return; }
      var row = event.target.closest("[data-referral-row]");
      filterAgencies(row, false);
      fillFollowUp(holder, row);
    });
    var form = holder.closest("form");
    if (form) {
      form.addEventListener("change", function (event) {
        if (event.target.name === "participant_mode") { showFollowUp(holder); }
      });
    }
    showFollowUp(holder);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-referrals]").forEach(setUp);
  });
})();
