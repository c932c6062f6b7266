// shenjing playground: the page. Training happens on the server (shenjing); this file draws what it sends.
"use strict";

const ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "step", "sign", "arctan", "leakyrelu", "elu", "selu", "softplus",
  "silu", "gelu", "sin", "polynomial"];
const DATASETS = [["circle", "Circle", "圆"], ["xor", "Exclusive or", "异或"], ["gauss", "Gaussian", "高斯"],
  ["spiral", "Spiral", "螺旋"], ["xor-corners", "XOR of the notes", "讲义中的异或"], ["reg-plane", "Plane (regression)", "平面(回归)"],
  ["reg-gauss", "Multi-Gaussian (regression)", "多高斯(回归)"]];
const FEATURES = [["x", "X₁"], ["y", "X₂"], ["xSquared", "X₁²"], ["ySquared", "X₂²"], ["xTimesY", "X₁X₂"], ["sinX", "sin(X₁)"],
  ["sinY", "sin(X₂)"], ["cosX", "cos(X₁)"], ["cosY", "cos(X₂)"]];
const ZH = {
  title: "神经游乐场", subtitle: "由 shenjing 实时训练的神经网络", epoch: "轮次", learningRate: "学习率", activation: "激活函数",
  regularization: "正则化", regularizationRate: "正则化系数", problem: "问题类型", classification: "分类", regression: "回归",
  optimizer: "优化器", data: "数据", whichDataset: "选择数据集", upload: "上传 CSV (x1,x2,标签)", percTrainData: "训练集比例",
  noise: "噪声", batchSize: "批大小", regenerate: "重新生成", more: "更多", init: "初始化", initScale: "初始化尺度", dropout: "Dropout 比例",
  batchNorm: "批归一化", residual: "残差连接", epsInside: "ε 在根号内 (讲义形式)", hiddenLayers: "个隐藏层", updateRule: "更新规则",
  loss: "损失", output: "输出", testLoss: "测试损失", trainLoss: "训练损失", showTestData: "显示测试数据", gradients: "各层梯度范数",
  download: "下载模型 (.safetensors + 脚本)", footer: "本页所有数值均由服务器上的 shenjing 计算。颜色: 橙色为负, 蓝色为正。", features: "特征",
  neurons: "个神经元",
};
const EN = {};
document.querySelectorAll("[data-i18n]").forEach(el => { EN[el.dataset.i18n] = el.textContent; });
EN.features = "Features"; EN.neurons = "neurons";

const $ = id => document.getElementById(id);
let ws, state = null, frame = null, cfg = {}, sid = null, curve = [], lang = "en";

function t(key) { return (lang === "zh" ? ZH : EN)[key] || key; }

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach(el => { el.textContent = t(el.dataset.i18n); });
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  buildDatasets();
  if (state) buildNetwork();
  if (frame) drawFrame(frame);  // the rebuilt diagram's heat maps, also while paused
}

// ------------------------------------------------------------------ the hash (TF Playground's keys)
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const out = {};
  for (const [k, v] of p) out[k] = v;
  return out;
}

function setHash(changes) {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const [k, v] of Object.entries(changes)) p.set(k, v);
  location.hash = p.toString().replace(/%2C/g, ",");  // commas kept, as TF Playground writes networkShape
}

function applyConfig(hash) {
  cfg = Object.fromEntries(new URLSearchParams(hash));
  for (const id of ["learningRate", "activation", "regularization", "regularizationRate", "problem", "optimizer", "init", "initScale", "dropout"]) {
    const el = $(id);
    if (cfg[id] === undefined) continue;
    if (![...el.options].some(o => o.value === cfg[id])) el.add(new Option(cfg[id], cfg[id]));
    el.value = cfg[id];
  }
  for (const id of ["percTrainData", "noise", "batchSize"]) { $(id).value = cfg[id]; $(id + "Value").textContent = cfg[id]; }
  for (const id of ["batchNorm", "residual", "epsInside", "showTestData"]) $(id).checked = cfg[id] === "true";
  if (cfg.lang && cfg.lang !== lang) { lang = cfg.lang; applyLang(); }
}

// ------------------------------------------------------------------ drawing
function color(v) {  // v in [−1, 1]: orange (negative) – white – blue (positive), as TF Playground
  const neg = [245, 147, 34], pos = [8, 119, 189], w = [232, 234, 235];
  const c = v < 0 ? neg : pos, a = Math.min(1, Math.abs(v));
  return [w[0] + (c[0] - w[0]) * a, w[1] + (c[1] - w[1]) * a, w[2] + (c[2] - w[2]) * a];
}
const PALETTE = Array.from({length: 256}, (_, q) => color((q - 127.5) / 127.5));

function drawHeat(canvas, b64, n) {
  const bytes = Uint8Array.from(atob(b64), ch => ch.charCodeAt(0));
  const img = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const c = PALETTE[bytes[i]];
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  const off = new OffscreenCanvas(n, n);
  off.getContext("2d").putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

function drawPoints(canvas) {
  if (!state) return;
  const ctx = canvas.getContext("2d"), s = canvas.width / 12;
  const sets = [["train", "#fff"]].concat($("showTestData").checked ? [["test", "#000"]] : []);
  for (const [name, stroke] of sets) {
    for (const [x, y, label] of state.points[name]) {
      const c = color(state.problem === "classification" ? label : label);
      ctx.beginPath();
      ctx.arc((x + 6) * s, (6 - y) * s, 3, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
      ctx.strokeStyle = stroke; ctx.lineWidth = 1;
      ctx.fill(); ctx.stroke();
    }
  }
}

function drawCurve() {
  const c = $("curve"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (curve.length < 2) return;
  const max = Math.max(...curve.flat(), 1e-9);
  [[0, "#777"], [1, "#222"]].forEach(([k, col]) => {
    ctx.beginPath(); ctx.strokeStyle = col; ctx.lineWidth = k ? 2 : 1;
    curve.forEach((p, i) => {
      const x = i / (curve.length - 1) * c.width, y = c.height - p[k] / max * (c.height - 4) - 2;
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  });
}

let gradHistory = [];
function drawGrads() {
  const c = $("grads"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  if (!gradHistory.length) return;
  const L = gradHistory[0].length, logs = gradHistory.map(r => r.map(v => Math.log10(v + 1e-12)));
  const lo = Math.min(...logs.flat()), hi = Math.max(...logs.flat(), lo + 1e-6);
  for (let l = 0; l < L; l++) {
    ctx.beginPath(); ctx.strokeStyle = `hsl(${l / Math.max(1, L - 1) * 240}, 70%, 40%)`;
    logs.forEach((r, i) => {
      const x = i / Math.max(1, logs.length - 1) * c.width, y = c.height - (r[l] - lo) / (hi - lo) * (c.height - 12) - 6;
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle; ctx.font = "10px sans-serif";
    ctx.fillText(l < L - 1 ? `L${l + 1}` : "out", c.width - 28, 10 + l * 10);
  }
}

// ------------------------------------------------------------------ the network diagram
function neuronCanvas(key) {
  const c = document.createElement("canvas");
  c.width = c.height = 40; c.className = "neuron"; c.dataset.key = key;
  return c;
}

function buildDatasets() {
  const box = $("datasets");
  box.innerHTML = "";
  for (const [name, en, zh] of DATASETS) {
    const b = document.createElement("button");
    b.textContent = lang === "zh" ? zh : en; b.dataset.testid = `dataset-${name}`; b.setAttribute("data-testid", `dataset-${name}`);
    b.className = cfg.dataset === name ? "selected" : "";
    b.onclick = () => setHash({dataset: name, problem: name.startsWith("reg-") ? "regression" : "classification"});
    box.appendChild(b);
  }
}

function buildNetwork() {
  const layers = $("layers");
  layers.innerHTML = "";
  const inputs = document.createElement("div");
  inputs.className = "layer";
  inputs.innerHTML = `<div class="layer-title">${t("features")}</div>`;
  for (const [key, label] of FEATURES) {
    const row = document.createElement("div");
    row.className = "feature" + (state.features.includes(key) ? " on" : "");
    row.setAttribute("data-testid", `feature-${key}`);
    row.title = label;
    row.appendChild(neuronCanvas(`in-${key}`));
    row.insertAdjacentHTML("beforeend", `<span>${label}</span>`);
    row.onclick = () => setHash({[key]: state.features.includes(key) ? "false" : "true"});
    inputs.appendChild(row);
  }
  layers.appendChild(inputs);
  state.networkShape.forEach((n, l) => {
    const col = document.createElement("div");
    col.className = "layer";
    col.innerHTML = `<div class="layer-title"><button data-l="${l}" data-d="1">+</button><button data-l="${l}" data-d="-1">−</button><br>${n} ${t("neurons")}<br></div>`;
    col.firstChild.appendChild(layerActivation(l));
    for (let j = 0; j < n; j++) col.appendChild(neuronCanvas(`h-${l}-${j}`));
    layers.appendChild(col);
  });
  layers.querySelectorAll(".layer-title button").forEach(b => {
    b.onclick = () => {
      const shape = state.networkShape.slice(), l = +b.dataset.l;
      shape[l] = Math.max(1, Math.min(16, shape[l] + +b.dataset.d));
      setHash({networkShape: shape.join(","), activations: ""});
    };
  });
  $("layerCount").textContent = state.networkShape.length;
}

function layerActivation(l) {  // each hidden layer's own activation (hash key `activations`)
  const sel = document.createElement("select");
  sel.className = "layer-act"; sel.setAttribute("data-testid", `activation-${l}`);
  ACTIVATIONS.forEach(a => sel.add(new Option(a, a)));
  sel.value = state.activations[l];
  sel.onchange = () => {
    const acts = state.activations.slice();
    acts[l] = sel.value;
    setHash({activations: acts.join(",")});
  };
  return sel;
}

function drawLinks() {
  const svg = $("links"), net = $("net").getBoundingClientRect();
  svg.setAttribute("width", net.width); svg.setAttribute("height", net.height);
  svg.innerHTML = "";
  if (!frame) return;
  const pos = el => { const r = el.getBoundingClientRect(); return [r.left - net.left, r.top - net.top + r.height / 2, r.width]; };
  const cols = [state.features.map(k => document.querySelector(`[data-key="in-${k}"]`))];
  state.networkShape.forEach((n, l) => cols.push([...Array(n).keys()].map(j => document.querySelector(`[data-key="h-${l}-${j}"]`))));
  cols.push([$("heatmap")]);
  frame.weights.forEach((W, l) => {
    W.forEach((row, j) => row.forEach((w, i) => {
      const a = cols[l][i], b = cols[l + 1][j];
      if (!a || !b) return;
      const [x1, y1, w1] = pos(a), [x2, y2] = l + 1 === cols.length - 1 ? [net.width - 2, 150] : pos(b);
      const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
      const sx = x1 + w1, c = color(Math.max(-1, Math.min(1, w)));
      line.setAttribute("d", `M${sx},${y1} C${(sx + x2) / 2},${y1} ${(sx + x2) / 2},${y2} ${x2},${y2}`);
      line.setAttribute("stroke", `rgb(${c[0]},${c[1]},${c[2]})`);
      line.setAttribute("stroke-width", Math.min(6, 0.5 + Math.abs(w) * 2));
      line.setAttribute("fill", "none");
      line.innerHTML = `<title>w = ${w.toFixed(4)}</title>`;
      svg.appendChild(line);
    }));
  });
}

// ------------------------------------------------------------------ messages
function fmt(v) { return (v === null || v === undefined || !isFinite(v)) ? String(v) : v.toFixed(3); }

function onFrame(f) {
  frame = f;
  $("epoch").textContent = f.epoch;
  $("trainLoss").textContent = fmt(f.trainLoss);
  $("testLoss").textContent = fmt(f.testLoss);
  if (f.history.length) { curve.push(f.history[0]); if (curve.length > 500) curve.shift(); }
  if (f.gradNorms.length) { gradHistory.push(f.gradNorms); if (gradHistory.length > 300) gradHistory.shift(); }
  drawFrame(f);
  const d = $("diverged");
  d.hidden = !f.diverged; d.textContent = f.diverged || "";
  if (f.diverged) setPlaying(false);
  requestAnimationFrame(() => ws.send(JSON.stringify({type: "ack"})));
}

function drawFrame(f) {
  drawHeat($("heatmap"), f.output, f.grid);
  drawPoints($("heatmap"));
  f.neurons.forEach((layer, l) => layer.forEach((b64, j) => {
    const c = document.querySelector(`[data-key="h-${l}-${j}"]`);
    if (c) drawHeat(c, b64, f.grid);
  }));
  state.features.forEach((k, i) => { const c = document.querySelector(`[data-key="in-${k}"]`); if (c) drawHeat(c, f.inputs[i], f.grid); });
  drawCurve(); drawGrads(); drawLinks();
}

function onState(s) {
  state = s; sid = s.session; curve = []; gradHistory = [];
  applyConfig(s.hash);
  buildDatasets(); buildNetwork();
  $("update").textContent = s.formula.update;
  $("lossFormula").textContent = s.formula.loss;
  $("source").textContent = s.formula.source;
  $("download").href = `/export/${sid}`;
  $("error").hidden = true;
}

let playing = false;
function setPlaying(p) {
  playing = p;
  $("play").innerHTML = p ? '<svg viewBox="0 0 24 24"><path d="M6 5h4v14H6zM14 5h4v14h-4z"/></svg>'
                          : '<svg viewBox="0 0 24 24"><path d="M7 4l13 8-13 8z"/></svg>';
  $("play").classList.toggle("playing", p);
}

function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onopen = () => { sentHash = location.hash.slice(1); ws.send(JSON.stringify({type: "config", hash: sentHash})); };
  ws.onmessage = ev => {
    const m = JSON.parse(ev.data);
    if (m.type === "state") onState(m);
    else if (m.type === "frame") onFrame(m);
    else if (m.type === "error") { $("error").hidden = false; $("error").textContent = m.message; }
  };
  ws.onclose = () => { setPlaying(false); };
}

// ------------------------------------------------------------------ controls
$("play").onclick = () => { setPlaying(!playing); ws.send(JSON.stringify({type: playing ? "play" : "pause"})); };
$("step").onclick = () => { setPlaying(false); ws.send(JSON.stringify({type: "step"})); };
$("reset").onclick = () => { setPlaying(false); ws.send(JSON.stringify({type: "reset"})); };
$("regenerate").onclick = () => { setPlaying(false); ws.send(JSON.stringify({type: "regenerate"})); };
$("lang").onclick = () => setHash({lang: lang === "zh" ? "en" : "zh"});
$("addLayer").onclick = () => { if (state.networkShape.length < 8) setHash({networkShape: state.networkShape.concat([2]).join(","), activations: ""}); };
$("removeLayer").onclick = () => { setHash({networkShape: state.networkShape.slice(0, -1).join(","), activations: ""}); };
for (const id of ["learningRate", "activation", "regularization", "regularizationRate", "problem", "optimizer", "init", "initScale", "dropout"]) {
  $(id).onchange = () => setHash(Object.assign({[id]: $(id).value}, id === "activation" ? {activations: ""} : {}));
}
for (const id of ["percTrainData", "noise", "batchSize"]) $(id).onchange = () => setHash({[id]: $(id).value});
for (const id of ["batchNorm", "residual", "epsInside", "showTestData"]) $(id).onchange = () => setHash({[id]: String($(id).checked)});
$("csv").onchange = async () => {
  const file = $("csv").files[0];
  if (!file) return;
  if (file.size > 1 << 20) { $("error").hidden = false; $("error").textContent = "the CSV is larger than 1024 KB"; return; }
  setPlaying(false);
  ws.send(JSON.stringify({type: "upload", csv: await file.text()}));
};
function withoutLang(hash) { const p = new URLSearchParams(hash); p.delete("lang"); return p.toString(); }
let sentHash = null;
window.addEventListener("hashchange", () => {
  const hash = location.hash.slice(1), p = new URLSearchParams(hash);
  if (sentHash !== null && withoutLang(hash) === withoutLang(sentHash)) {  // only the language: no new network
    lang = p.get("lang") || "en"; applyLang(); sentHash = hash; return;
  }
  setPlaying(false); sentHash = hash;
  ws.send(JSON.stringify({type: "config", hash}));
});
window.addEventListener("resize", drawLinks);

ACTIVATIONS.forEach(a => $("activation").add(new Option(a, a)));
setPlaying(false);
connect();
