// One support conversation, live (admin_web/conversation.py streams it): what the shopper,
// the bot, colleagues and notes add appears at the end of the transcript as it is written,
// and the state line follows takes, transfers and resolving. Picking a saved reply fills
// the reply box. Text goes in with textContent only: nothing typed is read as HTML.
(function () {
  "use strict";
  var page = document.querySelector(".conversation[data-stream]");
  if (!page) { return; }
  var list = document.getElementById("transcript");
  var empty = document.getElementById("transcript-empty");
  var state = document.getElementById("state");
  var drawnState = page.getAttribute("data-state");

  var saved = document.getElementById("saved-reply");
  var box = document.getElementById("reply-text");
  if (saved && box) {
    saved.addEventListener("change", function () {
      var picked = saved.options[saved.selectedIndex];
      if (picked && picked.value) { box.value = picked.getAttribute("data-text") || ""; box.focus(); }
    });
  }

  function lastId() {
    var last = list.lastElementChild;
    return last ? last.getAttribute("data-id") : "";
  }

  function add(entry) {
    if (list.querySelector('[data-id="' + String(entry.id) + '"]')) { return; }
    var li = document.createElement("li"), who = document.createElement("span");
    var when = document.createElement("time"), text = document.createElement("p");
    li.className = "entry " + entry.author + (entry.context ? " context" : "");
    li.setAttribute("data-id", String(entry.id));
    who.className = "who"; who.textContent = entry.who;
    when.setAttribute("datetime", entry.at); when.textContent = entry.shown_at;
    text.textContent = entry.text;
    li.append(who, " ", when);
    if (entry.context) {
      var mark = document.createElement("small");
      mark.className = "mark"; mark.textContent = "before the request";
      li.append(" ", mark);
    }
    li.append(text);
    list.append(li);
    if (empty) { empty.hidden = true; }
    list.scrollTop = list.scrollHeight;
  }

  function changed(news) {
    state.textContent = news.text;
    state.className = "state " + news.state;
    if (news.key === drawnState || page.querySelector(".stale")) { return; }
    var p = document.createElement("p"), a = document.createElement("a");
    p.className = "stale"; p.setAttribute("role", "status");
    p.textContent = "The conversation changed hands since the page was drawn. ";
    a.href = window.location.href; a.textContent = "Show the latest";
    p.append(a);
    state.after(p);
  }

  var base = page.getAttribute("data-stream").split("?")[0];
  window.keepStreaming(function () {
    return base + "?after=" + encodeURIComponent(lastId() || "0");
  }, {
    entry: function (event) {
      try { add(JSON.parse(event.data)); } catch (problem) { return; }
    },
    state: function (event) {
      try { changed(JSON.parse(event.data)); } catch (problem) { return; }
    }
  });
  if (list.lastElementChild) { list.scrollTop = list.scrollHeight; }
}());
