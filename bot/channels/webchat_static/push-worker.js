// The web chat's service worker: shows the shop's order news pushed to this browser
// (bot/notice_push.py sends {title, body, url}) and opens the chat on a click.
"use strict";

self.addEventListener("push", (event) => {
  let news = {};
  try {
    news = event.data ? event.data.json() : {};
  } catch (error) {
    news = {};
  }
  const title = typeof news.title === "string" && news.title ? news.title : "Order update";
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof news.body === "string" ? news.body : "",
    data: { url: "/chat" },  // only ever the chat, whatever a payload says
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of open) {
      if (new URL(client.url).pathname === "/chat" && "focus" in client) {
        return client.focus();
      }
    }
    return self.clients.openWindow("/chat");
  })());
});
