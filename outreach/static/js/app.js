/* Outreach page behaviour: an idle warning that holds focus, keep-alive while typing,
   confirmations, no double submit, saves that survive a dropped connection, a warning before
   leaving a form with unsaved input, and tables that scroll sideways by keyboard. */
(function () {
  "use strict";

  /* Set when the page itself leaves for the login page: nothing to ask the worker then. */
  var loggingOut = false;

  function goToLogin(url) {
    loggingOut = true;
    window.location.assign(url);
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function keepAlive(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    });
  }

  function formatSeconds(total) {
    var minutes = Math.floor(total / 60);
    var seconds = String(total % 60).padStart(2, "0");
    return minutes + ":" + seconds;
  }

  var FOCUSABLE =
    "a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]";

  /* Make everything on the page but the dialog inert (unreachable by Tab, taps, or screen
     readers) while it shows, and live again when it hides. */
  function setPageInert(dialog, inert) {
    Array.prototype.forEach.call(document.body.children, function (element) {
      if (element !== dialog && element.tagName !== "SCRIPT") {
        element.toggleAttribute("inert", inert);
      }
    });
  }

  /* Keep Tab and Shift+Tab cycling inside the open dialog, also where inert is not supported. */
  function trapTab(dialog, event) {
    if (dialog.hidden || event.key !== "Tab") { return; }
    var stops = Array.prototype.filter.call(dialog.querySelectorAll(FOCUSABLE), function (el) {
      return el.tabIndex >= 0 && el.getClientRects().length > 0;
    });
    if (!stops.length) { return; }
    var first = stops[0];
    var last = stops[stops.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (event.shiftKey && (!inside || document.activeElement === first)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
      event.preventDefault();
      first.focus();
    }
  }

  function setUpIdleWarning() {
    var body = document.body;
    var idle = parseInt(body.dataset.idleSeconds || "0", 10);
    if (!idle) { return; }
    var warnBefore = Math.min(parseInt(body.dataset.warningSeconds || "120", 10), idle);
    var dialog = document.getElementById("idle-warning");
    var countdown = dialog.querySelector("[data-idle-countdown]");
    var stay = dialog.querySelector("[data-idle-stay]");
    var lastActivity = Date.now();
    /* The server records page views at most every 20 s, so count from 20 s earlier. */
    var lastPing = Date.now() - 20000;
    /* What had focus before the dialog took it, to give it back when the dialog hides. */
    var focusBefore = null;

    function showDialog() {
      focusBefore = document.activeElement;
      setPageInert(dialog, true);
      dialog.hidden = false;
      stay.focus();
    }

    function hideDialog() {
      if (dialog.hidden) { return; }
      dialog.hidden = true;
      setPageInert(dialog, false);
      if (focusBefore && focusBefore !== document.body && document.contains(focusBefore)) {
        focusBefore.focus();
      }
      focusBefore = null;
    }

    function secondsLeft() {
      return Math.round(idle - (Date.now() - lastPing) / 1000);
    }

    function refresh() {
      keepAlive(body.dataset.keepaliveUrl).then(function (response) {
        if (response.redirected || !response.ok) { goToLogin(body.dataset.loginUrl); }
      });
      lastActivity = Date.now();
      lastPing = Date.now();
      hideDialog();
    }

    function onActivity() {
      if (!dialog.hidden) { return; }
      lastActivity = Date.now();
      if (Date.now() - lastPing > 60000) { refresh(); }
    }

    ["input", "keydown", "pointerdown"].forEach(function (name) {
      document.addEventListener(name, onActivity, { passive: true });
    });
    stay.addEventListener("click", refresh);
    document.addEventListener("keydown", function (event) { trapTab(dialog, event); });

    window.setInterval(function () {
      var left = secondsLeft();
      if (left <= warnBefore && lastActivity > lastPing && dialog.hidden) {
        refresh();
        return;
      }
      if (left <= 0) {
        goToLogin(body.dataset.loginUrl);
      } else if (left <= warnBefore) {
        countdown.textContent = formatSeconds(left);
        if (dialog.hidden) { showDialog(); }
      }
    }, 1000);
  }

  var NOT_SENT = "Not saved yet: the connection failed. Everything you typed is still here. " +
    "Tap Save again when you have signal: it is never saved twice.";
  var LOGGED_OUT = "Not saved: you are logged out. Everything you typed is still here: " +
    "log in again in another tab, then come back and tap Save.";
  var SAVE_TIMEOUT_MS = 30000;

  function saveStatus(form, message) {
    var status = form.querySelector("[data-save-status]");
    if (!status) {
      status = document.createElement("p");
      status.className = "flash flash-error";
      status.setAttribute("role", "alert");
      status.setAttribute("data-save-status", "");
      /* In the Save bar, which stays in view at the bottom of a long form. */
      var bar = form.querySelector(".submit-bar");
      if (bar) { bar.insertBefore(status, bar.firstChild); } else { form.appendChild(status); }
    }
    status.hidden = !message;
    status.textContent = message || "";
  }

  function showSaving(form, saving) {
    form.dataset.submitting = saving ? "1" : "";
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      if (saving) {
        button.dataset.label = button.textContent;
        button.textContent = "Saving…";
      } else if (button.dataset.label) {
        button.textContent = button.dataset.label;
      }
      button.setAttribute("aria-busy", saving ? "true" : "false");
    });
  }

  function isLoginPage(location) {
    var login = document.body.dataset.loginUrl;
    return !!login && new URL(location, window.location.href).pathname ===
      new URL(login, window.location.href).pathname;
  }

  /* Give the Save button back, with why the form was not saved. */
  function notSaved(form, message) {
    showSaving(form, false);
    saveStatus(form, message);
  }

  /* After a login in another tab the form's token no longer matches: read the new one from
     the home page. Answers "login" when logged out, true when the form has a new token. */
  function renewToken(form) {
    return fetch("/", { credentials: "same-origin" }).then(function (response) {
      if (response.redirected && isLoginPage(response.url)) { return "login"; }
      return response.text().then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var meta = page.querySelector('meta[name="csrf-token"]');
        var field = form.querySelector('input[name="csrf_token"]');
        if (!meta || !field) { return false; }
        field.value = meta.getAttribute("content");
        document.querySelector('meta[name="csrf-token"]').setAttribute("content", field.value);
        return true;
      });
    });
  }

  /* Send a form marked data-send-safely by script, so that a dropped connection keeps the
     form and its idempotency key instead of showing the browser's error page. A save answers
     with where to go; a refusal (422 or 409: a field to fix, a conflict) wrote nothing, so the
     form is sent again the ordinary way to show the server's page; a form token made stale
     by a login elsewhere is renewed once; any other answer counts as a failed connection. */
  function sendSafely(form, renewed) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, SAVE_TIMEOUT_MS);
    saveStatus(form, "");
    showSaving(form, true);
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Outreach-Save": "1", "Accept": "application/json" },
      signal: controller.signal
    }).then(function (response) {
      window.clearTimeout(timer);
      var type = response.headers.get("Content-Type") || "";
      if (response.headers.get("X-Outreach-Form-Expired") && !renewed) {
        return renewToken(form).then(function (outcome) {
          if (outcome === "login") {
            notSaved(form, LOGGED_OUT);
          } else if (outcome) {
            sendSafely(form, true);
          } else {
            throw new Error("no new form token");
          }
        });
      }
      /* A refusal (a field to fix, a conflict): the server may answer the script briefly. */
      if (response.status === 422 || response.status === 409) {
        HTMLFormElement.prototype.submit.call(form);
        return null;
      }
      if (!response.ok || type.indexOf("application/json") !== 0) {
        /* A proxy's error page, a server restarting, a captive portal: not the app's answer. */
        throw new Error("no answer from Outreach");
      }
      return response.json().then(function (answer) {
        if (isLoginPage(answer.location)) {
          notSaved(form, LOGGED_OUT);
          return;
        }
        window.location.assign(answer.location);
      });
    }).catch(function () {
      window.clearTimeout(timer);
      notSaved(form, NOT_SENT);
    });
  }

  function setUpForms() {
    /* Enter (a tablet keyboard's Go) in a box of a record-making form must not save it half
       filled: the Save button saves. */
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target.tagName === "INPUT" && target.form &&
          target.form.hasAttribute("data-send-safely")) {
        event.preventDefault();
      }
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); return; }
      if (form.method.toLowerCase() === "post") {
        if (form.dataset.submitting === "1") { event.preventDefault(); return; }
        if (form.hasAttribute("data-send-safely") && window.fetch && window.AbortController) {
          event.preventDefault();
          sendSafely(form);
          return;
        }
        form.dataset.submitting = "1";
        window.setTimeout(function () { form.dataset.submitting = ""; }, 8000);
      }
    });
  }

  /* A form marked data-unsaved-warning asks before the page is left with its input unsaved:
     once something is typed or tapped, or from the start when it came back with errors or
     holds input that was refused (data-unsaved-warning="held"). */
  function setUpUnsavedWarning() {
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-unsaved-warning]"));
    if (!forms.length) { return; }
    var unsaved = forms.some(function (form) {
      return form.dataset.unsavedWarning === "held" ||
        form.querySelector(".has-error, [aria-invalid='true']") !== null;
    });
    forms.forEach(function (form) {
      form.addEventListener("input", function () { unsaved = true; });
      form.addEventListener("change", function () { unsaved = true; });
    });
    window.addEventListener("beforeunload", function (event) {
      var submitting = document.querySelector("form[data-submitting='1']") !== null;
      if (!unsaved || submitting || loggingOut) { return; }
      event.preventDefault();
      event.returnValue = "";
    });
  }

  /* A table wider than its box scrolls sideways, which a keyboard cannot do unless the box
     takes focus: while it scrolls, make it a focusable region named by the table's caption. */
  function setUpScrollingTables() {
    var wraps = Array.prototype.slice.call(document.querySelectorAll(".table-wrap"));
    if (!wraps.length) { return; }
    wraps.forEach(function (wrap, index) {
      var caption = wrap.querySelector("caption");
      if (caption && !caption.id) { caption.id = "table-caption-" + (index + 1); }
    });

    function update() {
      wraps.forEach(function (wrap) {
        var caption = wrap.querySelector("caption");
        if (wrap.scrollWidth > wrap.clientWidth) {
          wrap.setAttribute("tabindex", "0");
          wrap.setAttribute("role", "region");
          if (caption) {
            wrap.setAttribute("aria-labelledby", caption.id);
          } else {
            wrap.setAttribute("aria-label", "Table, scrolls sideways");
          }
        } else {
          ["tabindex", "role", "aria-labelledby", "aria-label"].forEach(function (name) {
            wrap.removeAttribute(name);
          });
        }
      });
    }

    update();
    if ("ResizeObserver" in window) {
      var observer = new ResizeObserver(update);
      wraps.forEach(function (wrap) { observer.observe(wrap); });
    } else {
      window.addEventListener("resize", update);
    }
  }

  window.Outreach = { csrfToken: csrfToken };
  document.addEventListener("DOMContentLoaded", function () {
    setUpIdleWarning();
    setUpForms();
    setUpUnsavedWarning();
    setUpScrollingTables();
  });
})();
