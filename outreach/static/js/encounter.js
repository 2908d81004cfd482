/* Encounter screen: participant mode panels, +/- steppers, card check, "same as last time". */
(function () {
  "use strict";

  function showPanels(form) {
    var checked = form.querySelector('input[name="participant_mode"]:checked');
    var mode = checked ? checked.value : "";
    form.querySelectorAll(".mode-panel").forEach(function (panel) {
      var modes = panel.getAttribute("data-panel").split(" ");
      panel.hidden = modes.indexOf(mode) === -1;
    });
  }

  function step(button) {
    var input = document.getElementById(button.getAttribute("data-target"));
    var current = parseInt(input.value || "0", 10);
    if (isNaN(current)) { current = 0; }
    var max = parseInt(input.getAttribute("max") || "9999", 10);
    var next = Math.min(max, Math.max(0, current + parseInt(button.getAttribute("data-step"), 10)));
    input.value = next === 0 ? "" : String(next);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function fillSupplies(form, quantities) {
    form.querySelectorAll("input[data-item]").forEach(function (input) {
      var value = quantities[input.getAttribute("data-item")];
      input.value = value ? String(value) : "";
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  function lookUpCard(form, button) {
    var result = form.querySelector("[data-lookup-result]");
    var body = new URLSearchParams();
    body.set("card_code", form.querySelector('input[name="card_code"]').value);
    fetch(form.getAttribute("data-lookup-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": window.Outreach.csrfToken(), "Accept": "application/json" },
      body: body
    }).then(function (response) { return response.json(); }).then(function (data) {
      if (!data.found) { result.textContent = data.message; return; }
      result.textContent = "Found " + data.card_code + ".";
      var previous = data.last_supplies || {};
      if (Object.keys(previous).length) {
        var same = document.createElement("button");
        same.type = "button";
        same.className = "button secondary";
        same.textContent = "Same as last time";
        same.addEventListener("click", function () { fillSupplies(form, previous); });
        result.appendChild(document.createTextNode(" "));
        result.appendChild(same);
      }
    }).catch(function () {
      result.textContent = "Could not check the card now; it will be checked when you save.";
    });
  }

  /* The first box of the chosen way to identify the participant (its panels are the ones
     showPanels left shown), to type in at once. */
  function focusPanel(form) {
    var box = form.querySelector(
      ".mode-panel:not([hidden]) input:not([type=hidden]):not([type=checkbox])"
    );
    if (box) { box.focus(); }
  }

  /* A site's kind suggests the contact type (a van: mobile) until the worker picks one. */
  function followSite(form) {
    var site = form.querySelector('select[name="site_id"]');
    var contact = form.querySelector('select[name="contact_type"]');
    if (!site || !contact) { return; }
    /* An edit's contact type, or one sent back with errors, is already the worker's choice. */
    var chosen = form.hasAttribute("data-contact-chosen");
    contact.addEventListener("change", function () { chosen = true; });
    site.addEventListener("change", function () {
      var option = site.options[site.selectedIndex];
      var suggested = option ? option.getAttribute("data-contact-type") : "";
      if (!chosen && suggested) { contact.value = suggested; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.encounter-form");
    if (!form) { return; }
    /* A tap on a mode moves the cursor to its box; arrow keys stay in the group. */
    var tapped = false;
    var chips = form.querySelector(".mode-chips");
    if (chips) { chips.addEventListener("pointerdown", function () { tapped = true; }); }
    form.addEventListener("change", function (event) {
      if (event.target.name === "participant_mode") {
        showPanels(form);
        if (tapped) { focusPanel(form); }
        tapped = false;
      }
    });
    followSite(form);
    var headCount = form.querySelector('input[name="people_count"]');
    if (headCount) {
      /* Typing a group's size replaces the 1 already there. */
      headCount.addEventListener("focus", function () { headCount.select(); });
    }
    showPanels(form);
    /* Enter never saves (app.js); in the card code box it checks the card. */
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.name === "card_code") {
        lookUpCard(form, event.target);
      }
    });
    form.addEventListener("click", function (event) {
      var target = event.target.closest("button");
      if (!target) { return; }
      if (target.hasAttribute("data-step")) { step(target); }
      if (target.hasAttribute("data-lookup")) { lookUpCard(form, target); }
      if (target.hasAttribute("data-same-as-last")) {
        var holder = form.querySelector("[data-previous]");
        fillSupplies(form, JSON.parse(holder.getAttribute("data-previous") || "{}"));
      }
    });
  });
})();
