// Vigil's dashboard page: the API is engine/http/DASHBOARD.md. Plain JS, no framework, no build.
// Rules kept throughout: every piece of data goes into the page through textContent (never
// innerHTML); nothing is stored but the token, in sessionStorage (gone with the tab); every
// request carries it as a Bearer header, except the EventSource, which cannot set headers and
// uses ?token= as the API allows for the stream only.
'use strict';

(() => {
  const TOKEN_KEY = 'vigil.token';
  const MAX_ROWS = 500;         // rows kept in the live list (newest first)
  const RECENT_AT_LOAD = 200;   // alerts fetched when the page opens
  const TIMELINE_PAGE = 50;
  const SUMMARY_DEBOUNCE_MS = 3000;
  const STREAM_RETRY_MS = 3000;

  const STATE_LABELS = {
    new: 'New',
    under_review: 'Under review',
    no_case_to_answer: 'No case to answer',
    practice_requiring_improvement: 'Practice requiring improvement',
    referred_for_misconduct_investigation: 'Referred for misconduct investigation',
    welfare_support: 'Welfare support',
    false_positive: 'False positive',
    duplicate: 'Duplicate',
  };
  const OUTCOMES = ['no_case_to_answer', 'practice_requiring_improvement',
    'referred_for_misconduct_investigation', 'welfare_support', 'false_positive', 'duplicate'];
  const SEVERITY_ORDER = ['HIGH', 'MEDIUM', 'LOW'];
  const SEVERITY_COLORS = { HIGH: '#b42318', MEDIUM: '#dc6803', LOW: '#98a2b3' };
  const RULE_COLORS = ['#1d4ed8', '#0f766e', '#7c3aed', '#b45309', '#be123c', '#0369a1',
    '#4d7c0f', '#a21caf', '#475569', '#c2410c'];

  const app = {
    token: null,
    me: null,
    alerts: new Map(),    // alertId -> alert, the live list
    rows: new Map(),      // alertId -> <tr>
    rules: new Set(),
    source: null,
    lastEventId: null,
    retryTimer: null,
    streamBroken: false,
    summaryTimer: null,
    summarySeq: 0,        // answers to older summary requests are dropped
    deciding: new Set(),  // alert ids whose decision this page is sending
    charts: { rule: null, severity: null },
    timeline: null,       // { officer, purpose, next, alerts: Map, cards: Map }
    generation: 0,        // bumped on sign-out: answers to older requests are dropped
  };

  const $ = (id) => document.getElementById(id);

  // el('td', {className: 'x', title: t}, 'text', node, ...): strings become text nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null) continue;
        if (key === 'dataset') Object.assign(node.dataset, value);
        else node[key] = value;
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ---- formatting ----

  function fmtTime(iso) {
    if (!iso) return '';
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(iso);
    return m ? `${m[1]} ${m[2]}${m[3] && m[3] !== ':00' ? m[3] : ''}` : String(iso);
  }
  function fmtDay(day) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
    if (!m) return String(day);
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    return `${Number(m[3])} ${months[Number(m[2]) - 1] || m[2]}`;
  }
  function ruleLabel(rule) {
    const text = String(rule || '').replace(/_/g, ' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function stateLabel(state) { return STATE_LABELS[state] || ruleLabel(state); }
  function kindOf(alert) { return String(alert.kind || 'KIND_UNSPECIFIED').toUpperCase(); }
  function severityOf(alert) { return String(alert.severity || 'SEVERITY_UNSPECIFIED').toUpperCase(); }
  function normState(state) { return String(state || 'new').toLowerCase(); }

  // The review as {state, steps: [{state, reason, reviewer, at}]}, whatever spelling it came in.
  function normReview(review) {
    const r = review || {};
    const steps = Array.isArray(r.steps) ? r.steps.map((s) => ({
      state: normState(s.state), reason: s.reason || '', reviewer: s.reviewer || '', at: s.at || '',
    })) : [];
    let state = r.state ? normState(r.state) : (steps.length ? steps[steps.length - 1].state : 'new');
    if (state === 'state_unspecified') state = 'new';
    return { state, steps };
  }
  const isFinal = (state) => OUTCOMES.includes(state);

  function kindBadge(alert) {
    const kind = kindOf(alert);
    const label = kind === 'WELFARE' ? 'Welfare' : kind === 'MISCONDUCT' ? 'Misconduct' : kind;
    return el('span', { className: `badge kind kind-${kind.toLowerCase()}` }, label);
  }
  function severityBadge(alert) {
    const severity = severityOf(alert);
    return el('span', { className: `badge sev sev-${severity.toLowerCase()}` },
      severity.charAt(0) + severity.slice(1).toLowerCase());
  }
  function stateBadge(state) {
    const cls = isFinal(state) ? 'state-final' : `state-${state}`;
    return el('span', { className: `badge state ${cls}` }, stateLabel(state));
  }

  // ---- errors ----

  function showError(message) {
    const box = $('errors');
    while (box.children.length >= 3) box.firstChild.remove();
    const close = el('button', { type: 'button', className: 'btn btn-quiet', ariaLabel: 'Dismiss' }, 'Dismiss');
    const item = el('div', { className: 'error' }, el('span', null, message), close);
    close.addEventListener('click', () => item.remove());
    box.append(item);
  }
  function clearErrors() { $('errors').replaceChildren(); }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // fetch() with the token; JSON in and out. 401 signs out and asks for the token again.
  async function api(path, options = {}) {
    const generation = app.generation;
    const headers = { Accept: 'application/json', Authorization: `Bearer ${app.token}` };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method: options.method || 'GET', headers, cache: 'no-store', credentials: 'omit',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (e) {
      throw new ApiError(0, 'The dashboard cannot be reached.');
    }
    const text = await response.text();
    let body = null;
    if (text) {
      try { body = JSON.parse(text); } catch (e) { body = null; }
    }
    if (generation !== app.generation) throw new ApiError(-1, 'signed out');
    if (response.status === 401) {
      signOut('Your token was not accepted. Enter it again.');
      throw new ApiError(401, 'unauthorised');
    }
    if (!response.ok) {
      const message = body && typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
      throw new ApiError(response.status, message);
    }
    return body;
  }
  // Reports an API failure, except the ones already handled (401, sign-out).
  function report(what, error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === -1)) return;
    showError(`${what}: ${error.message}`);
  }

  // ---- sign in and out ----

  function showLogin(message) {
    $('app').hidden = true;
    $('session').hidden = true;
    $('timeline').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    const input = $('token-input');
    input.value = '';
    input.focus();
  }

  function signOut(message) {
    app.generation += 1;
    closeStream();
    clearTimeout(app.summaryTimer);
    app.summaryTimer = null;
    sessionStorage.removeItem(TOKEN_KEY);
    app.token = null;
    app.me = null;
    app.lastEventId = null;
    app.alerts.clear();
    app.rows.clear();
    app.rules.clear();
    app.timeline = null;
    $('alert-rows').replaceChildren();
    $('timeline-cards').replaceChildren();
    $('states').replaceChildren();
    $('me-name').textContent = '';
    $('me-roles').replaceChildren();
    for (const key of Object.keys(app.charts)) {
      if (app.charts[key]) app.charts[key].destroy();
      app.charts[key] = null;
    }
    clearErrors();
    showLogin(message);
  }

  async function start() {
    $('login').hidden = true;
    let me;
    try {
      me = await api('/api/me');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      showLogin(`Cannot sign in: ${e.message}`);
      return;
    }
    app.me = { name: String(me.name || ''), roles: Array.isArray(me.roles) ? me.roles.map(String) : [] };
    $('me-name').textContent = app.me.name;
    $('me-roles').replaceChildren(...app.me.roles.map((r) => el('span', { className: 'role' }, r)));
    setupKindFilter();
    $('session').hidden = false;
    $('app').hidden = false;
    loadSummary();
    await loadRecent();
    openStream();
  }

  const isReviewer = () => !!app.me && app.me.roles.includes('reviewer');

  // ---- the live list ----

  function setupKindFilter() {
    const select = $('filter-kind');
    const kinds = [];
    if (app.me.roles.includes('misconduct')) kinds.push(['MISCONDUCT', 'Misconduct']);
    if (app.me.roles.includes('welfare')) kinds.push(['WELFARE', 'Welfare']);
    select.replaceChildren(el('option', { value: '' }, 'All kinds'),
      ...kinds.map(([value, label]) => el('option', { value }, label)));
  }

  function noteRule(rule) {
    if (!rule || app.rules.has(rule)) return;
    app.rules.add(rule);
    const select = $('filter-rule');
    const current = select.value;
    const rules = [...app.rules].sort();
    select.replaceChildren(el('option', { value: '' }, 'All rules'),
      ...rules.map((r) => el('option', { value: r }, ruleLabel(r))));
    select.value = current;
  }

  function matchesFilters(alert) {
    const rule = $('filter-rule').value;
    const severity = $('filter-severity').value;
    const kind = $('filter-kind').value;
    return (!rule || alert.ruleId === rule) && (!severity || severityOf(alert) === severity) &&
      (!kind || kindOf(alert) === kind);
  }

  function applyFilters() {
    let shown = 0;
    for (const [id, row] of app.rows) {
      const visible = matchesFilters(app.alerts.get(id));
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    const total = app.rows.size;
    $('alert-count').textContent = total === 0 ? '' : shown === total ? `${total}` : `${shown} of ${total}`;
    $('alerts-empty').hidden = shown > 0;
    $('alerts-empty').textContent = total === 0
      ? 'No alerts yet. New alerts appear here as they are published.'
      : 'No alert matches these filters.';
  }

  function reviewCell(alert) {
    return el('td', { className: 'col-review' }, stateBadge(normReview(alert.review).state));
  }

  function alertRow(alert, fresh) {
    const officer = el('button', { type: 'button', className: 'link officer', title: 'Open timeline' },
      alert.officerId || '');
    officer.addEventListener('click', () => openTimeline(alert.officerId));
    const row = el('tr', { className: `row kind-${kindOf(alert).toLowerCase()}${fresh ? ' fresh' : ''}` },
      el('td', { className: 'col-time' }, fmtTime(alert.windowEnd)),
      el('td', null, kindBadge(alert)),
      el('td', null, severityBadge(alert)),
      el('td', { className: 'col-rule', title: alert.ruleId || '' }, ruleLabel(alert.ruleId)),
      el('td', { className: 'col-officer' }, officer),
      el('td', { className: 'col-summary' }, alert.summary || ''),
      reviewCell(alert));
    row.dataset.alertId = alert.alertId || '';
    return row;
  }

  // Adds an alert to the top of the live list (or refreshes it if already there).
  function addAlert(alert, fresh) {
    if (!alert || !alert.alertId) return;
    noteRule(alert.ruleId);
    const old = app.rows.get(alert.alertId);
    if (old) {
      // Already shown (a resumed stream or the list at load): keep the newest review.
      const known = app.alerts.get(alert.alertId);
      alert.review = alert.review || known.review;
      app.alerts.set(alert.alertId, alert);
      old.lastElementChild.replaceWith(reviewCell(alert));
      return;
    }
    app.alerts.set(alert.alertId, alert);
    const row = alertRow(alert, fresh);
    if (app.timeline && app.timeline.officer === alert.officerId) row.classList.add('selected');
    app.rows.set(alert.alertId, row);
    $('alert-rows').prepend(row);
    row.hidden = !matchesFilters(alert);
    while (app.rows.size > MAX_ROWS) {
      const [oldest] = app.rows.keys();
      app.rows.get(oldest).remove();
      app.rows.delete(oldest);
      app.alerts.delete(oldest);
    }
  }

  async function loadRecent() {
    let body;
    try {
      body = await api(`/api/alerts/recent?limit=${RECENT_AT_LOAD}`);
    } catch (e) {
      report('Loading recent alerts', e);
      return;
    }
    const alerts = Array.isArray(body) ? body : (body && Array.isArray(body.alerts) ? body.alerts : []);
    // Newest first from the API: add oldest first so the newest ends on top.
    for (let i = alerts.length - 1; i >= 0; i -= 1) addAlert(alerts[i], false);
    if (alerts.length && alerts[0].position) app.lastEventId = alerts[0].position;
    applyFilters();
  }

  // ---- the stream ----

  function setConn(state, text) {
    const conn = $('conn');
    conn.dataset.state = state;
    conn.textContent = text;
  }

  function closeStream() {
    clearTimeout(app.retryTimer);
    if (app.source) app.source.close();
    app.source = null;
  }

  function openStream() {
    closeStream();
    const params = new URLSearchParams({ token: app.token });
    // Resume right after the newest alert we hold; with none, from the start of the topic.
    // The browser sends Last-Event-ID itself when it reconnects.
    if (app.lastEventId) params.set('lastEventId', app.lastEventId);
    else params.set('from', 'beginning');
    const source = new EventSource(`/api/alerts/stream?${params}`);
    app.source = source;
    setConn('connecting', 'Connecting');
    source.onopen = () => {
      setConn('live', 'Live');
      if (app.streamBroken) {
        app.streamBroken = false;
        refreshReviewStates();
      }
    };
    source.onmessage = (event) => {
      let alert;
      try { alert = JSON.parse(event.data); } catch (e) { return; }
      if (event.lastEventId) app.lastEventId = event.lastEventId;
      addAlert(alert, true);
      applyFilters();
      scheduleSummary();
    };
    source.addEventListener('review', (event) => {
      let change;
      try { change = JSON.parse(event.data); } catch (e) { return; }
      applyReview(change.alertId, change.review, true);
      scheduleSummary();
    });
    source.onerror = () => {
      if (source !== app.source) return;
      app.streamBroken = true;
      if (source.readyState === EventSource.CONNECTING) {
        setConn('reconnecting', 'Reconnecting');
        return;
      }
      // Closed for good (the server refused it): find out why, then try again.
      setConn('offline', 'Offline');
      closeStream();
      api('/api/me').then(() => {
        app.retryTimer = setTimeout(() => { if (app.token) openStream(); }, STREAM_RETRY_MS);
      }, (e) => {
        if (e.status === 401 || e.status === -1) return;
        app.retryTimer = setTimeout(() => { if (app.token) openStream(); }, STREAM_RETRY_MS);
      });
    };
  }

  // After the stream was down, review changes may have been missed, and a stream resumed on
  // another dashboard process (a restart) may miss alerts of other partitions (DASHBOARD.md): take
  // the newest alerts and their current states again.
  async function refreshReviewStates() {
    try {
      const body = await api(`/api/alerts/recent?limit=${RECENT_AT_LOAD}`);
      const alerts = Array.isArray(body) ? body : (body && body.alerts) || [];
      for (let i = alerts.length - 1; i >= 0; i -= 1) {
        const alert = alerts[i];
        if (app.alerts.has(alert.alertId)) applyReview(alert.alertId, alert.review, false);
        else addAlert(alert, true);
      }
      applyFilters();
    } catch (e) {
      report('Refreshing after the stream reconnected', e);
    }
  }

  // A review changed (from the stream, or our own decision): update every place that shows it.
  function applyReview(alertId, review, fromStream) {
    if (!alertId) return;
    const alert = app.alerts.get(alertId);
    if (alert) {
      alert.review = review;
      const row = app.rows.get(alertId);
      if (row) row.lastElementChild.replaceWith(reviewCell(alert));
    }
    const tl = app.timeline;
    if (tl && tl.alerts.has(alertId)) {
      const shown = tl.alerts.get(alertId);
      const before = normReview(shown.review).state;
      shown.review = review;
      const card = tl.cards.get(alertId);
      const section = card && card.querySelector('.review');
      const typing = section && [...section.querySelectorAll('input[type=text]')].some((i) => i.value.trim());
      if (section) section.replaceWith(reviewSection(shown));
      if (fromStream && typing && !app.deciding.has(alertId) && before !== normReview(review).state) {
        notice(`The review of an alert you were editing was changed by someone else (now: ${stateLabel(normReview(review).state)}).`);
      }
    }
  }

  // ---- summary and charts ----

  // At most one summary request per SUMMARY_DEBOUNCE_MS while alerts arrive: a pending refresh is
  // kept, not pushed back, so that a steady stream of alerts still updates the charts.
  function scheduleSummary() {
    if (app.summaryTimer) return;
    app.summaryTimer = setTimeout(() => {
      app.summaryTimer = null;
      loadSummary();
    }, SUMMARY_DEBOUNCE_MS);
  }

  async function loadSummary() {
    const days = $('summary-days').value;
    const seq = ++app.summarySeq;
    let summary;
    try {
      summary = await api(`/api/summary?days=${encodeURIComponent(days)}`);
    } catch (e) {
      if (seq === app.summarySeq) report('Loading the summary', e);
      return;
    }
    if (seq !== app.summarySeq) return;
    const dayList = summary.days || [];
    // Over long periods daily bars are too thin to read: sum them by week.
    const step = dayList.length > 60 ? 7 : 1;
    const bucket = (counts) => {
      if (step === 1) return counts;
      const out = [];
      for (let i = 0; i < counts.length; i += step) out.push(counts.slice(i, i + step).reduce((a, n) => a + n, 0));
      return out;
    };
    const labels = dayList.filter((_, i) => i % step === 0).map(fmtDay);
    $('chart-rule-caption').textContent = `Alerts per rule, by ${step === 1 ? 'day' : 'week'} (window end, UTC)`;
    $('chart-severity-caption').textContent = `Alerts per severity, by ${step === 1 ? 'day' : 'week'}`;
    // The server's period ends on the day of the newest alert (a replayed history shows too).
    $('summary-range').textContent = dayList.length
      ? `${fmtDay(dayList[0])} ${String(dayList[0]).slice(0, 4)} \u2013 ${fmtDay(dayList[dayList.length - 1])} ${String(dayList[dayList.length - 1]).slice(0, 4)}`
      : '';
    const byRule = summary.byRule || {};
    const bySeverity = summary.bySeverity || {};
    Object.keys(byRule).forEach(noteRule);
    drawChart('rule', $('chart-rule'), labels, Object.keys(byRule).sort().map((rule, i) => ({
      label: ruleLabel(rule), data: bucket(byRule[rule] || []), backgroundColor: RULE_COLORS[i % RULE_COLORS.length],
    })));
    const severities = Object.keys(bySeverity).sort((a, b) => {
      const ia = SEVERITY_ORDER.indexOf(a);
      const ib = SEVERITY_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
    drawChart('severity', $('chart-severity'), labels, severities.map((s) => ({
      label: s.charAt(0) + s.slice(1).toLowerCase(), data: bucket(bySeverity[s] || []),
      backgroundColor: SEVERITY_COLORS[s] || '#667085',
    })));
    renderStates(summary.byState || {});
  }

  function drawChart(key, canvas, labels, datasets) {
    if (typeof window.Chart !== 'function') {
      canvas.parentElement.replaceChildren(el('p', { className: 'muted' },
        'Charts unavailable: /chart.js did not load (install libjs-chart.js on the server).'));
      return;
    }
    for (const d of datasets) {
      d.borderWidth = 0;
      d.stack = 'all';
      d.maxBarThickness = 28;
    }
    const existing = app.charts[key];
    if (existing) {
      existing.data.labels = labels;
      existing.data.datasets = datasets;
      existing.update();
      return;
    }
    app.charts[key] = new window.Chart(canvas, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 8 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid: { color: '#eef0f3' } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
          tooltip: { mode: 'index', intersect: false },
        },
      },
    });
  }

  function renderStates(byState) {
    const order = ['new', 'under_review', ...OUTCOMES];
    const extra = Object.keys(byState).filter((s) => !order.includes(normState(s)));
    const tiles = [];
    for (const state of [...order, ...extra]) {
      const n = Number(byState[state] || 0);
      if (!n && state !== 'new' && state !== 'under_review') continue;
      tiles.push(el('div', { className: `tile ${isFinal(state) ? 'tile-final' : `tile-${state}`}` },
        el('span', { className: 'tile-n' }, String(n)),
        el('span', { className: 'tile-label' }, stateLabel(state))));
    }
    $('states').replaceChildren(...tiles);
  }

  // ---- the officer timeline ----

  function notice(message) {
    const box = $('timeline-notice');
    box.textContent = message;
    box.hidden = !message;
  }

  function openTimeline(officer) {
    if (!officer) return;
    app.timeline = { officer, purpose: null, next: null, alerts: new Map(), cards: new Map() };
    $('timeline-title').textContent = officer;
    $('timeline-cards').replaceChildren();
    $('timeline-body').hidden = true;
    $('timeline-more').hidden = true;
    notice('');
    $('purpose-form').hidden = false;
    $('purpose-input').value = '';
    $('timeline').hidden = false;
    $('purpose-input').focus();
    markSelected();
  }

  // Highlights the live list's rows of the officer whose timeline is open.
  function markSelected() {
    const officer = app.timeline ? app.timeline.officer : null;
    for (const [id, row] of app.rows) {
      row.classList.toggle('selected', !!officer && app.alerts.get(id).officerId === officer);
    }
  }

  function closeTimeline() {
    app.timeline = null;
    $('timeline').hidden = true;
    $('timeline-cards').replaceChildren();
    markSelected();
  }

  async function loadTimeline(reset) {
    const tl = app.timeline;
    if (!tl || !tl.purpose) return;
    const params = new URLSearchParams({ officer: tl.officer, purpose: tl.purpose, limit: String(TIMELINE_PAGE) });
    if (!reset && tl.next) params.set('before', tl.next);
    let page;
    try {
      page = await api(`/api/alerts?${params}`);
    } catch (e) {
      report(`Loading the timeline of ${tl.officer}`, e);
      return;
    }
    if (app.timeline !== tl) return;
    if (reset) {
      tl.alerts.clear();
      tl.cards.clear();
      $('timeline-cards').replaceChildren();
    }
    const alerts = (page && page.alerts) || [];
    for (const alert of alerts) {
      if (!alert.alertId || tl.cards.has(alert.alertId)) continue;
      tl.alerts.set(alert.alertId, alert);
      const card = alertCard(alert);
      tl.cards.set(alert.alertId, card);
      $('timeline-cards').append(card);
    }
    tl.next = page && page.next ? page.next : null;
    $('timeline-more').hidden = !tl.next;
    if (tl.alerts.size === 0) {
      $('timeline-cards').replaceChildren(el('li', { className: 'empty' }, 'No alerts you may see for this officer.'));
    }
  }

  function fact(label, ...value) {
    return [el('dt', null, label), el('dd', null, ...value)];
  }

  function alertCard(alert) {
    const facts = el('dl', { className: 'facts' },
      ...fact('Window', fmtTime(alert.windowStart), ' \u2192 ', fmtTime(alert.windowEnd), ' UTC'),
      ...fact('Score', alert.score === undefined ? '0' : String(alert.score)),
      ...(alert.subjectId ? fact('Subject', alert.subjectId) : []),
      ...fact('Alert id', el('code', null, alert.alertId || '')),
      ...(alert.position ? fact('Position', el('code', null, `vigil.alerts ${alert.position}`)) : []));
    return el('li', { className: `card alert-card kind-${kindOf(alert).toLowerCase()}` },
      el('div', { className: 'card-head' }, kindBadge(alert), severityBadge(alert),
        el('span', { className: 'card-rule', title: alert.ruleId || '' }, ruleLabel(alert.ruleId))),
      el('p', { className: 'card-summary' }, alert.summary || ''),
      facts,
      evidenceList(alert.evidence || []),
      reviewSection(alert));
  }

  function evidenceItem(e) {
    const at = e.partition !== undefined && e.offset !== undefined ? `${e.partition}:${e.offset}` : null;
    const where = [e.topic, at].filter(Boolean).join(' ');
    return el('li', null, el('code', null, e.eventId || ''), where ? el('span', { className: 'muted' }, ` ${where}`) : null);
  }

  function evidenceList(evidence) {
    const box = el('div', { className: 'evidence' },
      el('h4', null, `Evidence (${evidence.length} event${evidence.length === 1 ? '' : 's'})`));
    const first = evidence.slice(0, 8);
    box.append(el('ul', null, ...first.map(evidenceItem)));
    if (evidence.length > first.length) {
      box.append(el('details', null, el('summary', null, `${evidence.length - first.length} more`),
        el('ul', null, ...evidence.slice(first.length).map(evidenceItem))));
    }
    return box;
  }

  function reviewSection(alert) {
    const review = normReview(alert.review);
    const section = el('div', { className: 'review' },
      el('div', { className: 'review-head' }, el('h4', null, 'Review'), stateBadge(review.state)));
    if (review.steps.length) {
      section.append(el('ol', { className: 'history' }, ...review.steps.map((s) => el('li', null,
        el('span', { className: 'history-state' }, stateLabel(s.state)),
        el('span', { className: 'muted' }, ` by ${s.reviewer || 'unknown'}${s.at ? `, ${fmtTime(s.at)} UTC` : ''}`),
        s.reason ? el('q', { className: 'history-reason' }, s.reason) : null))));
    } else {
      section.append(el('p', { className: 'muted' }, 'No review yet.'));
    }
    if (isReviewer() && !isFinal(review.state)) section.append(reviewForm(alert, review.state));
    return section;
  }

  function reviewForm(alert, current) {
    const form = el('form', { className: 'review-form', autocomplete: 'off' });
    const reason = el('input', { type: 'text', required: true, maxLength: 2000, className: 'reason',
      placeholder: 'Reason (required, recorded with your name)' });
    const error = el('p', { className: 'form-error', role: 'alert' });
    let outcome = null;
    let label;
    if (current === 'new') {
      label = 'Start review';
    } else {
      label = 'Record outcome';
      outcome = el('select', { className: 'outcome', required: true },
        el('option', { value: '' }, 'Choose an outcome\u2026'),
        ...OUTCOMES.map((o) => el('option', { value: o }, stateLabel(o))));
    }
    const submit = el('button', { type: 'submit', className: 'btn btn-primary' }, label);
    form.append(...(outcome ? [outcome] : []), reason, submit, error);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      const state = outcome ? outcome.value : 'under_review';
      if (!state) { error.textContent = 'Choose an outcome.'; return; }
      if (!text) { error.textContent = 'A reason is required.'; return; }
      error.textContent = '';
      submit.disabled = true;
      app.deciding.add(alert.alertId);
      try {
        const review = await api('/api/reviews', {
          method: 'POST', body: { alertId: alert.alertId, state, reason: text, expect: current },
        });
        applyReview(alert.alertId, review && review.review ? review.review : review, false);
        scheduleSummary();
      } catch (e) {
        submit.disabled = false;
        if (e.status === 409) {
          notice('Someone else changed this alert\u2019s review; the timeline was reloaded.');
          loadTimeline(true);
        } else if (e.status !== 401 && e.status !== -1) {
          error.textContent = e.message;
        }
      } finally {
        app.deciding.delete(alert.alertId);
      }
    });
    return form;
  }

  // ---- wiring ----

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token-input').value.trim();
      if (!token) { $('login-error').textContent = 'Enter a token.'; return; }
      $('token-input').value = '';
      sessionStorage.setItem(TOKEN_KEY, token);
      app.token = token;
      start();
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    for (const id of ['filter-rule', 'filter-severity', 'filter-kind']) {
      $(id).addEventListener('change', applyFilters);
    }
    $('filters').addEventListener('submit', (event) => event.preventDefault());
    $('summary-days').addEventListener('change', loadSummary);
    $('timeline-close').addEventListener('click', closeTimeline);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !$('timeline').hidden) closeTimeline();
    });
    $('purpose-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const purpose = $('purpose-input').value.trim();
      if (!purpose || !app.timeline) return;
      app.timeline.purpose = purpose;
      $('purpose-form').hidden = true;
      $('purpose-note').textContent = `Purpose recorded in the audit: \u201c${purpose}\u201d`;
      $('timeline-body').hidden = false;
      loadTimeline(true);
    });
    $('timeline-more').addEventListener('click', () => loadTimeline(false));

    app.token = sessionStorage.getItem(TOKEN_KEY);
    if (app.token) start();
    else showLogin('');
  });
})();
