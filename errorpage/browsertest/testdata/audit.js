// audit.js runs in the page under test (through the DevTools protocol, which
// the page's Content-Security-Policy does not restrict) and reports what the
// Go test asserts: the layout's width, the page's language and direction, its
// headline, and the WCAG contrast of every visible element that holds text.
(async () => {
	// What runs at load: a page must be readable the moment it is shown
	// (monitors take their screenshots then), so it has no animation. Any
	// there is is let end, so that the rest is measured as it settles.
	const animationsAtLoad = document.getAnimations().length;
	await Promise.all(document.getAnimations().map((a) => a.finished));

	// parse returns [r, g, b, alpha] (0-255, 0-1) for a computed colour. It
	// throws on a form it does not know, so that the test fails loudly
	// rather than skipping an element.
	const parse = (c) => {
		let m = c.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
		if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
		m = c.match(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/);
		if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
		throw new Error("audit: unknown colour form " + c);
	};
	// over composites colour top onto the opaque colour bottom.
	const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
	// luminance is WCAG 2's relative luminance of an opaque colour.
	const luminance = (c) => {
		const [r, g, b] = c.slice(0, 3).map((v) => {
			v /= 255;
			return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");

	// background returns the opaque colour behind el: the background-colors
	// of el and its ancestors, up to the first opaque one, composited.
	const background = (el) => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c[3] > 0) layers.push(c);
			if (c[3] >= 1) break;
		}
		if (layers.length === 0 || layers[layers.length - 1][3] < 1) return null;
		return layers.reduceRight((acc, c) => (acc === null ? c : over(c, acc)), null);
	};

	const texts = [];
	for (const el of document.body.querySelectorAll("*")) {
		const own = Array.from(el.childNodes)
			.filter((n) => n.nodeType === Node.TEXT_NODE)
			.map((n) => n.textContent)
			.join("")
			.trim();
		if (own === "") continue;
		const s = getComputedStyle(el);
		if (el.getClientRects().length === 0 || s.visibility !== "visible" || +s.opacity === 0) continue;
		const bg = background(el);
		const size = parseFloat(s.fontSize);
		const weight = parseInt(s.fontWeight, 10);
		const large = size >= 24 || (size >= 18.66 && weight >= 700);
		const entry = {
			tag: el.tagName.toLowerCase() + (el.className ? "." + el.className : ""),
			text: own.slice(0, 40),
			size: size,
			large: large,
			need: large ? 3 : 4.5,
		};
		if (bg === null) {
			entry.ratio = 0;
			entry.fg = s.color;
			entry.bg = "no opaque background";
		} else {
			const fg = over(parse(s.color), bg);
			const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
			entry.ratio = Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100;
			entry.fg = hex(fg);
			entry.bg = hex(bg);
		}
		texts.push(entry);
	}

	const h1 = document.querySelector("h1");
	const code = document.querySelector(".code");
	return {
		lang: document.documentElement.getAttribute("lang") || "",
		dir: document.documentElement.getAttribute("dir") || "",
		title: document.title,
		h1: h1 ? h1.textContent.trim() : "",
		code: code ? code.textContent.trim() : "",
		scrollWidth: document.documentElement.scrollWidth,
		innerWidth: window.innerWidth,
		animation: getComputedStyle(document.querySelector("main") || document.body).animationName,
		animationsAtLoad: animationsAtLoad,
		refresh: (document.querySelector('meta[http-equiv="refresh" i]') || { content: "" }).content,
		body: document.body.innerText,
		texts: texts,
	};
})()
