// A server-sent event stream kept open while the page is shown, for live.js (the news on
// every page) and conversation.js (one conversation): a stream the browser gave up on is
// opened again after growing pauses (3 s doubling to a minute, back to 3 s once events
// flow), and a hidden tab lets its stream go (browsers allow few connections a site) and
// opens it again when shown. `url()` is asked at each opening, so it can carry on from the
// last event seen; `listeners` maps event names to handlers.
window.keepStreaming = function (url, listeners) {
  "use strict";
  var stream = null, retryMs = 3000;
  function open() {
    stream = new EventSource(url());
    Object.keys(listeners).forEach(function (name) {
      stream.addEventListener(name, function (event) {
        retryMs = 3000;
        listeners[name](event);
      });
    });
    stream.addEventListener("error", function () {
      if (stream.readyState !== EventSource.CLOSED) { return; }  // it reconnects itself
      stream = null;
      setTimeout(function () { if (!stream && !document.hidden) { open(); } }, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (stream) { stream.close(); stream = null; }
    } else if (!stream) {
      open();
    }
  });
  if (!document.hidden) { open(); }
};
