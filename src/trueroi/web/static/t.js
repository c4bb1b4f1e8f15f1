/* trueroi first-party tracker, served by trueroi at /t.js. It makes no third-party request.
 *
 *   <script async src="https://TRUEROI/t.js" data-key="WRITE_KEY"></script>
 *   <script>window.trueroi=window.trueroi||function(){(trueroi.q=trueroi.q||[]).push(arguments)};</script>
 *   trueroi('consent', true)          consent given: a first-party id in the cookie _trueroi_id (13 months)
 *   trueroi('consent', false)         refused: no id, no cookie (the cookie is deleted); counts only
 *   trueroi('track', 'purchase', {order_id: 'A1', revenue: 59.9, currency: 'EUR'})
 *   trueroi('track', 'lead', {value: 20});  trueroi('track', 'custom', {name: 'newsletter', value: 1})
 *   trueroi('page')                   a page view (one is sent on load; call it on single-page navigation)
 *
 * Without a consent decision nothing identifies the visitor. With data-wait-consent="1" events wait (in
 * memory) for the decision. Events go in batches (fetch keepalive, sendBeacon when the page is hidden) and
 * are retried with backoff on a network error or a 5xx/429 answer; every event has its own id, so a batch
 * sent twice is stored once. With consent, events the browser would not send as the page closed are kept
 * in localStorage and sent on the next page.
 */
(function (w, d) {
  'use strict';
  var script = d.currentScript || d.querySelector('script[data-key][src*="/t.js"]');
  if (!script || w.__trueroiLoaded) return;
  w.__trueroiLoaded = true;
  var KEY = script.getAttribute('data-key');
  var WAIT = script.getAttribute('data-wait-consent') === '1';
  var ENDPOINT = new URL(script.src, d.baseURI).origin + '/collect/v1/t';
  var COOKIE = '_trueroi_id', STORE = '_trueroi_q', MAX_AGE = 34128000; // 395 days
  var queue = [], timer = null, backoff = 1000, sending = false;
  var consent = readCookie() ? true : null; // an id cookie exists only after consent

  function rid() {
    var a = new Uint8Array(16);
    (w.crypto || w.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  function readCookie() {
    var m = d.cookie.match(/(?:^|;\s*)_trueroi_id=([A-Za-z0-9]+)/);
    return m ? m[1] : null;
  }
  function writeCookie(value, age) {
    d.cookie = COOKIE + '=' + value + '; Max-Age=' + age + '; Path=/; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '');
  }
  function visitor() {
    if (consent !== true) return null;
    var id = readCookie();
    if (!id) { id = rid(); writeCookie(id, MAX_AGE); }
    return id;
  }
  function stored() {
    if (consent !== true) return [];
    try { return JSON.parse(w.localStorage.getItem(STORE) || '[]'); } catch (e) { return []; }
  }
  function store(events) {
    if (consent !== true) return;
    try {
      if (events.length) w.localStorage.setItem(STORE, JSON.stringify(events.slice(-100)));
      else w.localStorage.removeItem(STORE);
    } catch (e) { /* storage full or blocked: the events stay in memory */ }
  }

  function push(type, props) {
    var e = { event_id: rid(), type: type, ts: Date.now() };
    for (var k in props) if (Object.prototype.hasOwnProperty.call(props, k)) e[k] = props[k];
    queue.push(e);
    if (queue.length > 500) queue.shift();
    schedule(type === 'page_view' ? 1000 : 200);
  }
  function page() {
    push('page_view', { url: location.href, referrer: d.referrer || undefined });
  }
  function schedule(delay) {
    if (!timer) timer = setTimeout(flush, delay);
  }
  function body(events) {
    var id = visitor();
    var out = events.map(function (e) {
      var c = {};
      for (var k in e) c[k] = e[k];
      if (id && !c.user_id) c.user_id = id;
      if (!id) delete c.user_id;
      return c;
    });
    return JSON.stringify({ write_key: KEY, sent_at: Date.now(), events: out });
  }
  function flush() {
    timer = null;
    if (sending || !queue.length || (WAIT && consent === null)) return;
    var batch = queue.slice(0, 50);
    sending = true;
    fetch(ENDPOINT, {
      method: 'POST', body: body(batch), keepalive: true, credentials: 'omit', mode: 'cors',
      headers: { 'Content-Type': 'text/plain' }
    }).then(function (r) {
      if (r.status >= 500 || r.status === 429) throw new Error('retry');
      done(batch); // 2xx: kept; other 4xx: refused for good, not sent again
    }).catch(function () {
      sending = false;
      backoff = Math.min(backoff * 2, 60000);
      timer = setTimeout(flush, backoff);
    });
  }
  function done(batch) {
    sending = false;
    backoff = 1000;
    queue = queue.filter(function (e) { return batch.indexOf(e) < 0; });
    store(queue);
    if (queue.length) schedule(0);
  }
  function leave() {
    if (!queue.length || (WAIT && consent === null)) return;
    var blob = new Blob([body(queue.slice(0, 50))], { type: 'text/plain' });
    if (navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, blob)) return;
    store(queue); // the browser would not take the beacon: sent again on the next page
    flush();
  }

  var api = function (command, a, b) {
    if (command === 'consent') {
      consent = !!a;
      if (!consent) { writeCookie('', 0); try { w.localStorage.removeItem(STORE); } catch (e) { /* none */ } }
      else visitor();
      schedule(0);
    } else if (command === 'track') {
      push(String(a), b || {});
    } else if (command === 'page') {
      page();
    } else if (command === 'id') {
      return visitor();
    }
  };
  var earlier = (w.trueroi && w.trueroi.q) || [];
  w.trueroi = api;
  for (var i = 0; i < earlier.length; i++) {
    if (earlier[i][0] === 'consent') api.apply(null, earlier[i]);
  }
  queue = stored();
  page();
  for (var j = 0; j < earlier.length; j++) {
    if (earlier[j][0] !== 'consent') api.apply(null, earlier[j]);
  }
  d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') leave(); });
  w.addEventListener('pagehide', leave);
})(window, document);
