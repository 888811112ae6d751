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
