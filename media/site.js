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
