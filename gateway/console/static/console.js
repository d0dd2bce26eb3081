// The console's only script: optional auto-refresh of live pages. Everything else is plain HTML.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-live-reload]");
  if (!box) return;
  const key = "kzgate-live:" + location.pathname;
  box.checked = sessionStorage.getItem(key) === "on";
  let timer = null;
  const arm = () => {
    clearTimeout(timer);
    if (box.checked) timer = setTimeout(() => location.reload(), 1000 * Number(box.dataset.liveReload));
  };
  box.addEventListener("change", () => {
    sessionStorage.setItem(key, box.checked ? "on" : "off");
    arm();
  });
  arm();
});
