// The web chat client: posts messages and button actions, renders replies, polls for news.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  // The chat's token is issued by the server with the first answer; it is kept here so a
  // reload carries on the same chat, and shown in each message's body and each poll's
  // X-Chat-Session header (never in a URL). A token the server no longer knows (an old
  // one, from before tokens) is simply replaced by the next answer's.
  const KEY = "chatcart-session";
  let session = localStorage.getItem(KEY);
  let started;
  const ready = new Promise((resolve) => { started = resolve; });
  const pause = (seconds) => new Promise((r) => setTimeout(r, seconds * 1000));

  function keep(token) {
    if (typeof token !== "string" || !token) return;
    if (token !== session) {
      session = token;
      localStorage.setItem(KEY, token);
    }
    started();
  }

  function bubble(kind) {
    const item = document.createElement("li");
    item.className = "bubble " + kind;
    log.appendChild(item);
    return item;
  }

  function render(reply) {
    const item = bubble("bot");
    if (reply.image) {
      const img = document.createElement("img");
      img.src = reply.image;
      img.alt = "";
      item.appendChild(img);
    }
    const text = document.createElement("p");
    text.textContent = reply.text;
    item.appendChild(text);
    if (reply.links && reply.links.length) {
      const links = document.createElement("p");
      for (const link of reply.links) {
        const a = document.createElement("a");
        a.href = link.url;
        a.textContent = link.label;
        a.rel = "noopener";
        a.target = "_blank";
        links.appendChild(a);
      }
      item.appendChild(links);
    }
    if (reply.buttons && reply.buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      for (const button of reply.buttons) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.label;
        b.addEventListener("click", () => send({ action: button.action }, button.label));
        row.appendChild(b);
      }
      item.appendChild(row);
    }
    item.scrollIntoView({ behavior: "smooth", block: "end" });
  }

  // One message at a time, in order: each waits for the answer before it, which also
  // carries the token a new chat's next message must show.
  let sending = Promise.resolve();
  function send(payload, shown) {
    bubble("me").textContent = shown;
    sending = sending.then(() => deliver(payload));
  }

  async function deliver(payload) {
    try {
      const response = await fetch("/webchat/api/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign(
          session ? { session } : {}, { locale: navigator.language }, payload)),
      });
      const body = await response.json();
      if (!response.ok) {
        render({ text: body.error || "Something went wrong." });
        return;
      }
      keep(body.session);
      body.replies.forEach(render);
    } catch (error) {
      render({ text: "The shop can't be reached right now. Please try again." });
    }
  }

  async function poll() {
    await ready;
    for (;;) {
      try {
        const response = await fetch("/webchat/api/messages?wait=20", {
          headers: { "X-Chat-Session": session },
          cache: "no-store",
        });
        if (response.ok) {
          (await response.json()).replies.forEach(render);
        } else {
          // 429: busy, come back when told; 401: the next message brings a new token.
          const after = Number(response.headers.get("Retry-After"));
          await pause(after > 0 && after <= 120 ? after : 5);
        }
      } catch (error) {
        await pause(5);
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text);
  });

  send({ text: "/start" }, "Hello");
  poll();
})();
