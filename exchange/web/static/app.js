// Small enhancements; every page works without them.
(function () {
  "use strict";
  // Progress: poll the task's status and move the bar; reload when it ends (the page shows the result).
  document.querySelectorAll(".progress[data-status-url]").forEach(function (box) {
    if (box.dataset.state !== "running") return;
    var bar = box.querySelector(".progress-bar"), track = box.querySelector(".progress-track");
    var stage = box.querySelector(".stage"), numbers = box.querySelector(".numbers");
    function poll() {
      fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (t) {
          bar.style.width = t.percent + "%";
          track.setAttribute("aria-valuenow", t.percent);
          if (t.stage) stage.textContent = t.stage;
          numbers.textContent = t.total ? t.done + " / " + t.total : "";
          if (t.state === "running") setTimeout(poll, 500); else window.location.reload();
        })
        .catch(function () { setTimeout(poll, 2000); });
    }
    poll();
  });
  // Confirm destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
  });
})();
