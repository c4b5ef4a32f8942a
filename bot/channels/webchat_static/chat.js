// The web chat client: posts messages and button actions, renders replies, polls for news.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const session = (() => {
    let id = localStorage.getItem("chatcart-session");
    if (!id) {
      const bytes = crypto.getRandomValues(new Uint8Array(12));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem("chatcart-session", id);
    }
    return id;
  })();

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

  async function send(payload, shown) {
    bubble("me").textContent = shown;
    try {
      const response = await fetch("/webchat/api/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ session }, payload)),
      });
      const body = await response.json();
      if (!response.ok) {
        render({ text: body.error || "Something went wrong." });
        return;
      }
      body.replies.forEach(render);
    } catch (error) {
      render({ text: "The shop can't be reached right now. Please try again." });
    }
  }

  async function poll() {
    for (;;) {
      try {
        const response = await fetch(`/webchat/api/messages?session=${session}&wait=20`);
        if (response.ok) (await response.json()).replies.forEach(render);
        else await new Promise((r) => setTimeout(r, 5000));
      } catch (error) {
        await new Promise((r) => setTimeout(r, 5000));
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
