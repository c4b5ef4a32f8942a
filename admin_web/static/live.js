// Live news on every console page (admin_web/live.py streams it): a note in the corner for
// what needs someone (a paid order, a shopper asking for a person, stock running low), the
// nav's counts kept current, and a word on a page whose subject changed since it was drawn.
// Text goes in with textContent only: names typed by staff are never read as HTML.
(function () {
  "use strict";
  var source = document.body.getAttribute("data-live");
  if (!source || !window.EventSource) { return; }
  var KEEP = 5, SHOW_MS = 60000;
  var notes = document.getElementById("news");

  function setCounts(counts) {
    document.querySelectorAll("[data-count]").forEach(function (badge) {
      var n = counts[badge.getAttribute("data-count")];
      if (typeof n !== "number") { return; }
      badge.textContent = String(n);
      badge.hidden = n === 0;
    });
  }

  function note(text, link) {
    var p = document.createElement("p"), a = document.createElement("a");
    var close = document.createElement("button");
    a.href = link; a.textContent = text;
    close.type = "button"; close.textContent = "\u00d7";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", function () { p.remove(); });
    p.append(a, close);
    notes.prepend(p);
    while (notes.children.length > KEEP) { notes.lastElementChild.remove(); }
    setTimeout(function () { p.remove(); }, SHOW_MS);
  }

  function markStale(news) {
    var main = document.querySelector("main[data-watch]");
    if (!main || main.querySelector(".stale")) { return; }
    var watch = main.getAttribute("data-watch"), changed = false;
    if (watch === "handoff") { changed = news.action.indexOf("support.handoff") === 0; }
    else if (watch.indexOf("order:") === 0) {
      changed = news.action.indexOf("order.") === 0 && "order:" + news.subject === watch;
    }
    if (!changed) { return; }
    var p = document.createElement("p"), a = document.createElement("a");
    p.className = "stale"; p.setAttribute("role", "status");
    p.textContent = "This has changed since the page was drawn. ";
    a.href = window.location.href; a.textContent = "Show the latest";
    p.append(a);
    main.prepend(p);
  }

  // One stream per visible tab: a hidden tab lets its connection go (browsers allow a
  // few per site), and catches up from its last item when it is shown again. A stream
  // that failed (the server restarting, a proxy's error) is opened again, less often
  // each time, rather than left closed for good.
  var lastId = "", base = source.split("?")[0];
  window.keepStreaming(function () {
    return lastId ? base + "?after=" + encodeURIComponent(lastId) : source;
  }, {
    news: function (event) {
      var news;
      if (event.lastEventId) { lastId = event.lastEventId; }
      try { news = JSON.parse(event.data); } catch (problem) { return; }
      setCounts(news.counts || {});
      if (news.alert) { note(news.text, news.link); }
      markStale(news);
    }
  });
}());
