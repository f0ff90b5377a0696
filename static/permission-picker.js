// Progressive enhancement for the permission rows of the app-registration
// form. Without this script the form works as plain inputs, and the server
// checks every name. With it, typing a name lists matching Microsoft Graph
// and Exchange Online permissions, and picking a high-risk one shows its note.
(function () {
  "use strict";

  var listCount = 0;

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, wait);
    };
  }

  function getJson(url, done) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) { done(body); } })
      .catch(function () { /* The server checks the name on submit anyway. */ });
  }

  function enhanceRow(row) {
    var api = row.querySelector("[data-scope-api]");
    var apiName = row.querySelector("[data-scope-api-name]");
    var name = row.querySelector("[data-permission-name]");
    var type = row.querySelector("[data-permission-type]");
    var notes = row.querySelector("[data-permission-notes]");
    if (!api || !name || !type || !notes) { return; }

    listCount += 1;
    var listId = "permission-options-" + listCount;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "picker-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching permissions");
    list.hidden = true;
    name.parentNode.insertBefore(list, name.nextSibling);
    name.setAttribute("role", "combobox");
    name.setAttribute("aria-autocomplete", "list");
    name.setAttribute("aria-expanded", "false");
    name.setAttribute("aria-controls", listId);

    var options = [];
    var active = -1;

    function showApiName() {
      if (apiName) { apiName.hidden = api.value !== "other"; }
    }

    function close() {
      list.hidden = true;
      name.setAttribute("aria-expanded", "false");
      name.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        name.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function refreshNotes() {
      if (!name.value.trim() || !type.value) { notes.textContent = ""; return; }
      var url = "/permissions/notes.json?api=" + encodeURIComponent(api.value) +
        "&name=" + encodeURIComponent(name.value.trim()) + "&type=" + encodeURIComponent(type.value);
      getJson(url, function (body) {
        notes.textContent = "";
        body.notes.forEach(function (text) {
          var note = document.createElement("p");
          note.className = "panel notice";
          note.textContent = text;
          notes.appendChild(note);
        });
      });
    }

    function choose(index) {
      var option = options[index];
      if (!option) { return; }
      name.value = option.dataset.name;
      type.value = option.dataset.type;
      api.value = option.dataset.api;
      showApiName();
      close();
      refreshNotes();
    }

    var search = debounce(function () {
      var query = name.value.trim();
      if (api.value === "other" || query.length < 2) { close(); return; }
      getJson("/permissions/search.json?q=" + encodeURIComponent(query), function (results) {
        list.textContent = "";
        options = results.map(function (result, i) {
          var option = document.createElement("li");
          option.id = listId + "-" + i;
          option.setAttribute("role", "option");
          option.dataset.name = result.name;
          option.dataset.type = result.type;
          option.dataset.api = result.api;
          option.textContent = result.name + " (" + result.type + ", " + result.api_label + "): " + result.display_name;
          option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
          list.appendChild(option);
          return option;
        });
        if (options.length === 0) { close(); return; }
        list.hidden = false;
        name.setAttribute("aria-expanded", "true");
        highlight(-1);
      });
    }, 200);

    name.addEventListener("input", search);
    name.addEventListener("blur", function () { close(); refreshNotes(); });
    name.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, options.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(active); }
      else if (event.key === "Escape") { close(); }
    });
    type.addEventListener("change", refreshNotes);
    api.addEventListener("change", function () { showApiName(); refreshNotes(); });
    showApiName();
  }

  document.querySelectorAll("[data-scope-row]").forEach(enhanceRow);
})();
