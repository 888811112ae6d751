// Progressive enhancement only: every page works without this file.
// Name suggestions for the search box, from /api/v1/suggest, as a native datalist.
(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input, i) {
    var list = document.createElement("datalist");
    list.id = "suggest-" + i;
    input.setAttribute("list", list.id);
    input.parentNode.appendChild(list);
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2 || q === last || /[:\s]/.test(q)) return;
      timer = setTimeout(function () {
        last = q;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { headers: { accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            list.replaceChildren();
            (data.suggestions || []).forEach(function (s) {
              var o = document.createElement("option");
              o.value = s.name;
              if (s.description) o.label = s.description;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 120);
    });
  });
})();

// Source files: shift-click a line number to mark a range (#L10-L20); the server marks
// ranges given as ?lines=10-20 without this script.
(function () {
  "use strict";
  var code = document.querySelector("pre.code");
  if (!code) return;
  var first = null;
  function mark() {
    code.querySelectorAll(".line.marked").forEach(function (l) { l.classList.remove("marked"); });
    var m = /^#L(\d+)(?:-L(\d+))?$/.exec(location.hash);
    if (!m || !m[2]) return;
    var a = Math.min(+m[1], +m[2]), b = Math.max(+m[1], +m[2]);
    for (var n = a; n <= b; n++) {
      var line = document.getElementById("L" + n);
      if (line) line.classList.add("marked");
    }
    var start = document.getElementById("L" + a);
    if (start) start.scrollIntoView({ block: "center" });
  }
  code.addEventListener("click", function (e) {
    var ln = e.target.closest("a.ln");
    if (!ln) return;
    var n = +ln.dataset.n;
    if (e.shiftKey && first !== null) {
      e.preventDefault();
      history.replaceState(null, "", "#L" + Math.min(first, n) + "-L" + Math.max(first, n));
      mark();
    } else {
      first = n;
    }
  });
  window.addEventListener("hashchange", mark);
  mark();
})();

// The home page's "recently updated" list, kept current from the live stream (the page is
// complete without it): a publish or update moves the package to the top.
(function () {
  "use strict";
  var list = document.querySelector("ol[data-live]");
  if (!list || !window.EventSource) return;
  var size = Math.max(list.children.length, 10);
  var source = new EventSource(list.dataset.live);
  function show(e) {
    var ev;
    try { ev = JSON.parse(e.data); } catch (_) { return; }
    if (!ev.package || !/^\/package\//.test(ev.url || "")) return;
    var item = document.createElement("li");
    item.className = "row";
    var main = document.createElement("div");
    main.className = "row-main";
    var a = document.createElement("a");
    a.className = "pkg";
    a.href = ev.url;
    a.textContent = ev.package;
    main.appendChild(a);
    if (ev.version) {
      var v = document.createElement("span");
      v.className = "version";
      v.textContent = ev.version;
      main.appendChild(v);
    }
    var side = document.createElement("div");
    side.className = "row-side";
    var when = document.createElement("span");
    when.className = "muted";
    when.textContent = ev.kind === "publish" ? "just published" : "just updated";
    side.appendChild(when);
    item.append(main, side);
    list.querySelectorAll("a.pkg").forEach(function (old) {
      if (old.textContent === ev.package) old.closest("li").remove();
    });
    list.querySelectorAll("li.muted").forEach(function (empty) { empty.remove(); });
    list.prepend(item);
    while (list.children.length > size) list.lastElementChild.remove();
  }
  source.addEventListener("publish", show);
  source.addEventListener("update", show);
  source.addEventListener("remove", function (e) {
    var ev;
    try { ev = JSON.parse(e.data); } catch (_) { return; }
    list.querySelectorAll("a.pkg").forEach(function (old) {
      if (old.textContent === ev.package) old.closest("li").remove();
    });
  });
})();

// "/" focuses the search box, as on GitHub and MDN; not while typing in a field or with
// Ctrl, Alt or Meta held (Shift may be how a keyboard layout types "/").
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.altKey || e.metaKey || e.isComposing || e.defaultPrevented) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    // the package search: the home or search page's big box before the header's
    var box = document.querySelector("main input[data-suggest]") || document.querySelector("input[data-suggest]");
    if (!box) return;
    e.preventDefault();
    box.focus();
    box.select();
  });
})();
