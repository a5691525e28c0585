(function () {
  "use strict";
  var pane = document.getElementById("pane");
  var body = pane.querySelector(".pane-body");
  var title = pane.querySelector(".pane-title");
  var active = [];

  function open(id, from) {
    var m = document.getElementById(id);
    if (!m) { return; }
    body.textContent = m.textContent;  // text, never markup
    title.textContent = m.getAttribute("data-where");
    pane.hidden = false;
    document.body.classList.add("pane-open");
    active.forEach(function (e) { e.classList.remove("active"); });
    active = [from];
    from.classList.add("active");
    body.scrollTop = 0;
  }

  function close() {
    pane.hidden = true;
    document.body.classList.remove("pane-open");
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-m]");
    if (t) { e.preventDefault(); open(t.getAttribute("data-m"), t); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { close(); return; }
    var t = e.target.closest && e.target.closest("[data-m]");
    if (t && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); open(t.getAttribute("data-m"), t); }
  });
  document.getElementById("pane-close").addEventListener("click", close);

  // a link to a message (report.html#m12) opens it
  var linked = location.hash && document.querySelector('[data-m="' + location.hash.slice(1).replace(/[^\w-]/g, "") + '"]');
  if (linked) { open(linked.getAttribute("data-m"), linked); }

  var filter = document.getElementById("filter");
  filter.addEventListener("input", function () {
    var q = filter.value.trim().toLowerCase();
    document.querySelectorAll(".filterable").forEach(function (el) {
      el.hidden = q !== "" && el.textContent.toLowerCase().indexOf(q) < 0 && !el.querySelector(".row:not(.dim)");
    });
    document.querySelectorAll("g.row").forEach(function (g) {
      g.classList.toggle("dim", q !== "" && (g.getAttribute("data-text") || "").toLowerCase().indexOf(q) < 0);
    });
    document.querySelectorAll(".filterable").forEach(function (el) {
      if (q !== "" && el.querySelector("g.row:not(.dim)")) { el.hidden = false; }
    });
  });
})();
