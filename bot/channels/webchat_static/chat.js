// The web chat client: posts messages and button actions, renders replies, polls for news.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const photoButton = document.getElementById("add-photo");
  const photoInput = document.getElementById("photo");
  // The server's cap on a photo (bot.messages.MAX_UPLOAD; a test holds them equal): a
  // larger file is refused here, before it is sent.
  const MAX_PHOTO_MB = 8;
  const MAX_PHOTO_BYTES = MAX_PHOTO_MB * 1024 * 1024;
  const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];
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
    if ((reply.buttons || []).some((b) => String(b.action).startsWith("ord:"))) offerPush();
  }

  // Web push: offered only once this chat has a confirmed order (the server says so), as
  // a button in the chat; the browser's permission prompt comes only from its click.
  const PUSH_KEY = "chatcart-push";
  let pushChecking = false;
  const pushPossible = () => "serviceWorker" in navigator && "PushManager" in window
    && "Notification" in window && Notification.permission !== "denied"
    && localStorage.getItem(PUSH_KEY) !== "on";

  async function offerPush() {
    if (pushChecking || !session || !pushPossible()) return;
    pushChecking = true;
    try {
      const response = await fetch("/webchat/api/push/key", {
        headers: { "X-Chat-Session": session }, cache: "no-store",
      });
      const answer = response.ok ? await response.json() : {};
      if (answer.offer && answer.key && !document.getElementById("push-offer")) {
        showPushOffer(answer.key);
        return;  // offered once per page
      }
    } catch (error) {
      // no offer this time; the next order news asks again
    }
    pushChecking = false;
  }

  function showPushOffer(key) {
    const item = bubble("bot");
    const why = document.createElement("p");
    why.textContent = "I can tell you when your order moves on, even with this page closed.";
    item.appendChild(why);
    const row = document.createElement("div");
    row.className = "buttons";
    const b = document.createElement("button");
    b.type = "button";
    b.id = "push-offer";
    b.textContent = "Get order updates in this browser";
    b.addEventListener("click", () => {
      b.disabled = true;
      subscribePush(key).then((said) => {
        item.remove();
        render({ text: said });
      });
    });
    row.appendChild(b);
    item.appendChild(row);
    item.scrollIntoView({ behavior: "smooth", block: "end" });
  }

  function keyBytes(text) {
    const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
  }

  async function subscribePush(key) {
    try {
      if (await Notification.requestPermission() !== "granted") {
        return "No problem: updates keep coming here in the chat.";
      }
      const registration = await navigator.serviceWorker.register(
        "/chat/push-worker.js", { scope: "/chat" });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(key),
      });
      const response = await fetch("/webchat/api/push", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Chat-Session": session },
        body: JSON.stringify(subscription.toJSON()),
      });
      if (!response.ok) return "This browser can't get order updates from the shop.";
      localStorage.setItem(PUSH_KEY, "on");
      return "Done: this browser will tell you when your order moves on.";
    } catch (error) {
      return "This browser can't get order updates from the shop.";
    }
  }

  // One message at a time, in order: each waits for the answer before it, which also
  // carries the token a new chat's next message must show.
  let sending = Promise.resolve();
  function send(payload, shown) {
    bubble("me").textContent = shown;
    sending = sending.then(() => deliver(payload));
  }

  async function deliver(payload) {
    await answered(() => fetch("/webchat/api/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign(
        session ? { session } : {}, { locale: navigator.language }, payload)),
    }));
  }

  // The server's answer to a message or a photo: its replies, or its refusal, as bubbles.
  async function answered(request) {
    try {
      const response = await request();
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

  // A photo for a return: the image itself is the body, the chat's token in a header.
  // Whether a return wants one is the server's to say (it answers either way).
  function sendPhoto(file) {
    if (file.size > MAX_PHOTO_BYTES) {
      render({ text: `That photo is larger than ${MAX_PHOTO_MB} MB. Please send a smaller one.` });
      return;
    }
    if (!PHOTO_TYPES.includes(file.type)) {
      render({ text: "Please choose a photo: a JPEG, PNG, WebP or GIF image." });
      return;
    }
    const item = bubble("me");
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      const img = document.createElement("img");
      img.src = reader.result;  // a data: address (the page's policy allows no blob:)
      img.alt = "Your photo";
      img.addEventListener("error", () => img.remove());  // not a picture after all
      item.prepend(img);
    });
    reader.readAsDataURL(file);
    const name = document.createElement("p");
    name.textContent = "Photo: " + file.name;
    item.appendChild(name);
    sending = sending.then(() => {
      if (!session) {
        render({ text: "The shop can't be reached right now. Please try again." });
        return undefined;
      }
      return answered(() => fetch("/webchat/api/photos", {
        method: "POST",
        headers: { "Content-Type": file.type, "X-Chat-Session": session },
        body: file,
      }));
    });
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

  photoButton.addEventListener("click", () => photoInput.click());
  photoInput.addEventListener("change", () => {
    const file = photoInput.files && photoInput.files[0];
    photoInput.value = "";  // the same file may be chosen again
    if (file) sendPhoto(file);
  });

  send({ text: "/start" }, "Hello");
  poll();
})();
