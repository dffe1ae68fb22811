// Loopline web UI: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function renderCharts() {
    if (typeof window.vegaEmbed !== "function") return;
    document.querySelectorAll("script[type='application/json'][data-for]").forEach(function (el) {
      var target = document.getElementById(el.getAttribute("data-for"));
      if (!target || target.dataset.rendered) return;
      target.dataset.rendered = "1";
      var spec;
      try { spec = JSON.parse(el.textContent); } catch (e) { return; }
      window.vegaEmbed(target, spec, { renderer: "svg", actions: false }).then(function () {
        target.classList.add("ready");
      }).catch(function (err) {
        target.textContent = "chart unavailable: " + err;
      });
    });
  }

  // Runs table: enable "Compare" for 2..10 ticked runs, say how many are ticked.
  function compareForm() {
    var form = document.getElementById("compare-form");
    if (!form) return;
    var btn = document.getElementById("compare-btn");
    var out = document.getElementById("compare-count");
    function update() {
      var n = form.querySelectorAll("input[name='run']:checked").length;
      btn.disabled = n < 2 || n > 10;
      out.textContent = n === 0 ? "tick 2 to 10 runs" : n + " selected" + (n > 10 ? " (at most 10)" : n < 2 ? " (at least 2)" : "");
    }
    form.addEventListener("change", update);
    update();
  }

  // Compare page: hide params that are the same in every run.
  function onlyDiff() {
    var box = document.getElementById("only-diff");
    if (!box) return;
    box.addEventListener("change", function () {
      document.querySelectorAll("#params-diff tr.same").forEach(function (tr) {
        tr.hidden = box.checked;
      });
    });
  }

  // Forms that change state ask first.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  }

  function backLinks() {
    document.querySelectorAll("a[data-back]").forEach(function (a) {
      if (window.history.length > 1) {
        a.addEventListener("click", function (ev) { ev.preventDefault(); window.history.back(); });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderCharts();
    compareForm();
    onlyDiff();
    confirmForms();
    backLinks();
  });
})();
