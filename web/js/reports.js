// reports.js — the daily report form (phones first; drafts survive a lost
// connection and are submitted once when it is back) and the officials'
// dashboard (completeness, key figures, drill-down, trend, missing list,
// review queue). Validation is the server's (/validate); nothing is
// re-implemented here.
'use strict';
document.addEventListener('alpine:init', function () {
  const Alpine = window.Alpine;
  const api = window.cwApi;
  const i18n = window.cwI18n;
  const user = () => Alpine.store('ui').user || { scope: '', caps: [] };

  function today() { return new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' }); }
  function addDays(day, n) {
    const d = new Date(day + 'T12:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function templateFor(type) {
    return type === 'child_welfare' || type === 'minor_protection' ? 'child-daily-2022' : 'elderly-daily-2022';
  }
  function newKey() { return 'k-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10); }

  // ---- the report form
  Alpine.data('reportForm', function () {
    return {
      tpl: null, inst: null, period: today(), values: {}, report: null, details: [], confirm: false,
      busy: false, message: '', offline: !navigator.onLine, queued: false, loaded: false, fromPeriod: '',
      // the signed-in user's draft: on a shared phone another user never sends it
      get key() { return 'cw.u' + user().id + '.draft.' + (this.tpl ? this.tpl.code : '') + '.' + (this.inst ? this.inst.id : '') + '.' + this.period; },
      async init() {
        window.addEventListener('online', () => { this.offline = false; this.flushQueued(); });
        window.addEventListener('offline', () => { this.offline = true; });
        const instId = user().institution_id || this.routeId;
        try {
          this.inst = await api.get('/api/v1/institutions/' + instId);
          this.tpl = await api.get('/api/v1/templates/' + templateFor(this.inst.type));
          await this.load();
        } catch (e) { this.message = e.message; }
        this.loaded = true;
        this.flushQueued();
      },
      async load() {
        this.details = [];
        this.confirm = false;
        this.report = null;
        this.values = {};
        const base = this.path();
        try { this.report = await api.get(base); this.values = Object.assign({}, this.report.values); } catch (e) {
          if (e.code !== 'no_report') throw e;
          const p = await api.get(base + '/prefill');
          this.values = p.values;
          this.fromPeriod = p.from_period || '';
        }
        const saved = localStorage.getItem(this.key);
        if (saved) {
          const d = JSON.parse(saved);
          if (!this.report || d.at > this.report.updated_at * 1000) { this.values = d.values; this.queued = !!d.submit; }
        }
      },
      path() { return '/api/v1/reports/' + this.tpl.code + '/' + this.inst.id + '/' + this.period; },
      statusText() {
        if (!this.report) return i18n.t('rep.none');
        return i18n.t('rep.status.' + this.report.status);
      },
      keep(submit) {
        const old = JSON.parse(localStorage.getItem(this.key) || '{}');
        localStorage.setItem(this.key, JSON.stringify({ values: this.values, at: Date.now(), submit: !!submit,
          client_key: submit ? (old.client_key || newKey()) : '' }));
      },
      changed() { this.keep(false); this.check(); },
      async check() {
        if (!navigator.onLine) return;
        try {
          const r = await api.post(this.path() + '/validate', { values: this.clean() });
          this.details = r.details;
        } catch (e) { /* validation is advisory here; saving reports errors */ }
      },
      clean() {
        const out = {};
        Object.keys(this.values).forEach((k) => {
          const v = this.values[k];
          if (v !== '' && v !== null && v !== undefined) out[k] = v;
        });
        return out;
      },
      fieldError(code) { const d = this.details.find((x) => x.field === code); return d ? d.message : ''; },
      get ruleProblems() { return this.details.filter((x) => x.rule); },
      get hasWarnings() { return this.details.some((x) => x.severity === 'warning'); },
      async save(submit) {
        this.busy = true;
        this.message = '';
        this.keep(submit);
        const d = JSON.parse(localStorage.getItem(this.key));
        const body = { status: submit ? 'submitted' : 'draft', values: this.clean(), confirm_warnings: this.confirm };
        if (d.client_key) body.client_key = d.client_key;
        try {
          this.report = await api.put(this.path(), body);
          localStorage.removeItem(this.key);
          this.queued = false;
          this.details = this.report.warnings || [];
          this.message = submit ? i18n.t('rep.submitted') : i18n.t('rep.drafted');
        } catch (e) {
          if (e.code === 'network') {
            this.queued = submit;
            this.message = i18n.t('rep.queued');
          } else {
            this.details = e.details || [];
            this.message = e.message;
            const k = JSON.parse(localStorage.getItem(this.key) || '{}');
            k.submit = false;
            localStorage.setItem(this.key, JSON.stringify(k));
          }
        }
        this.busy = false;
      },
      async flushQueued() {
        const d = JSON.parse(localStorage.getItem(this.key) || 'null');
        if (d && d.submit && navigator.onLine && this.tpl) { this.values = d.values; await this.save(true); }
      },
      async zero() {
        this.busy = true;
        try {
          this.report = await api.post(this.path() + '/zero', { client_key: newKey() });
          this.values = Object.assign({}, this.report.values);
          localStorage.removeItem(this.key);
          this.message = i18n.t('rep.submitted');
        } catch (e) { this.message = e.message; }
        this.busy = false;
      },
      async prevDay() { this.period = addDays(this.period, -1); await this.load(); },
      async nextDay() { if (this.period < today()) { this.period = addDays(this.period, 1); await this.load(); } },
      isNum(f) { return f.type === 'integer' || f.type === 'decimal'; },
      isBool(f) { return f.type === 'boolean'; },
      isText(f) { return f.type === 'text'; },
      isDate(f) { return f.type === 'date'; },
      setBool(f, v) { this.values[f.code] = v; this.changed(); },
      boolIs(f, v) { return this.values[f.code] === v; },
      label(f) { return i18n.lang === 'en' ? (f.label.en || f.label.zh) : f.label.zh; },
      title(s) { return i18n.lang === 'en' ? (s.title.en || s.title.zh) : s.title.zh; },
    };
  });

  // ---- the officials' dashboard
  const KEY_FIELDS = { 'elderly-daily-2022': ['residents_present', 'currently_infected', 'severe_cases', 'new_infected', 'referred_to_hospital', 'staff_shortage'],
    'child-daily-2022': ['children_present', 'currently_infected', 'severe_cases', 'fever_today', 'in_isolation', 'staff_shortage'] };

  Alpine.data('dashboard', function () {
    return {
      template: 'elderly-daily-2022', period: today(), division: '', tpl: null, comp: null, roll: null, prev: null,
      queue: [], error: '', path: [], charts: {},
      async init() {
        this.division = user().scope;
        await this.refresh();
      },
      async refresh() {
        this.error = '';
        try {
          this.tpl = await api.get('/api/v1/templates/' + this.template);
          const q = (extra) => api.query(Object.assign({ template: this.template, division: this.division }, extra));
          const [comp, roll, prev, queue, series, div] = await Promise.all([
            api.get('/api/v1/completeness' + q({ period: this.period })),
            api.get('/api/v1/rollups' + q({ period: this.period })),
            api.get('/api/v1/rollups' + q({ period: addDays(this.period, -1) })),
            api.get('/api/v1/reports' + q({ period: this.period, status: 'submitted' })),
            api.get('/api/v1/series' + q({ field: KEY_FIELDS[this.template][1], from: addDays(this.period, -20), to: this.period })),
            this.division ? api.get('/api/v1/divisions/' + this.division) : Promise.resolve({ path: [] }),
          ]);
          this.comp = comp; this.roll = roll; this.prev = prev; this.queue = queue.items; this.path = div.path;
          this.$nextTick(() => this.draw(series));
        } catch (e) { this.error = e.message; }
      },
      label(code) {
        const f = this.tpl ? this.tpl.sections.flatMap((s) => s.fields).concat(this.tpl.ratios || []).find((x) => x.code === code) : null;
        return f ? (i18n.lang === 'en' ? f.label.en : f.label.zh) : code;
      },
      get figures() {
        if (!this.roll) return [];
        const counts = KEY_FIELDS[this.template].map((code) => {
          const v = this.roll.division.values[code] || 0, p = (this.prev && this.prev.division.values[code]) || 0;
          const d = v - p;
          return { code, label: this.label(code), value: v, delta: (d > 0 ? '+' : '') + d, up: d > 0 };
        });
        // ratios of summed parts (the server computes them); the change in percentage points
        const ratios = ((this.tpl && this.tpl.ratios) || []).map((r) => {
          const v = this.roll.division.values[r.code], p = this.prev ? this.prev.division.values[r.code] : null;
          const d = typeof v === 'number' && typeof p === 'number' ? Math.round((v - p) * 100) / 100 : null;
          return { code: r.code, label: this.label(r.code), value: typeof v === 'number' ? v + (r.unit || '') : '—',
            delta: d === null ? '' : (d > 0 ? '+' : '') + d, up: d > 0 };
        });
        return counts.concat(ratios);
      },
      get missingNote() {
        return this.comp && this.comp.missing_truncated
          ? i18n.t('dash.missingTruncated', { n: this.comp.missing.length, total: this.comp.division.missing }) : '';
      },
      rate(c) { return c.expected ? Math.round(100 * c.submitted / c.expected) + '%' : '—'; },
      drill(c) { if (c.code && c.code.length <= 6) { this.division = c.code; this.refresh(); } },
      up(p) { this.division = p.code; this.refresh(); },
      top() { this.division = user().scope; this.refresh(); },
      canUp(p) { return p.code.length >= user().scope.length && p.code !== this.division; },
      async review(x, action) {
        const body = { action };
        if (action === 'return') {
          const reason = window.prompt(i18n.t('dash.returnReason'));
          if (!reason) return;
          body.reason = reason;
        }
        try {
          await api.post('/api/v1/reports/' + this.template + '/' + x.institution_id + '/' + x.period + '/review', body);
          await this.refresh();
        } catch (e) { this.error = e.message; }
      },
      draw(series) {
        if (!window.echarts) return;
        const bar = this.$refs.bar, line = this.$refs.line;
        if (bar && this.comp) {
          const c = this.charts.bar || (this.charts.bar = window.echarts.init(bar));
          const kids = this.comp.children;
          c.setOption({
            tooltip: { trigger: 'axis' }, legend: { bottom: 0 }, grid: { left: 40, right: 10, top: 10, bottom: 60 },
            xAxis: { type: 'category', data: kids.map((k) => k.name), axisLabel: { rotate: kids.length > 6 ? 40 : 0 } },
            yAxis: { type: 'value' },
            series: [
              { name: i18n.t('dash.onTime'), type: 'bar', stack: 'a', data: kids.map((k) => k.on_time) },
              { name: i18n.t('dash.late'), type: 'bar', stack: 'a', data: kids.map((k) => k.late) },
              { name: i18n.t('dash.missing'), type: 'bar', stack: 'a', data: kids.map((k) => k.missing) },
            ],
          }, true);
        }
        if (line && series) {
          const c = this.charts.line || (this.charts.line = window.echarts.init(line));
          c.setOption({
            tooltip: { trigger: 'axis' }, grid: { left: 40, right: 10, top: 20, bottom: 30 },
            xAxis: { type: 'category', data: series.points.map((p) => p.period.slice(5)) },
            yAxis: { type: 'value' },
            series: [{ name: this.label(series.field), type: 'line', smooth: true, areaStyle: {}, data: series.points.map((p) => p.value) }],
          }, true);
        }
      },
    };
  });
});
