// persons.js — vulnerable people at home (特殊服务对象): the list, the
// register/edit form, a person's page with a visit form for phones (a draft
// that survives a lost connection and is sent once when back: client_key), the
// worker's due and overdue lists, and for officials coverage by area and
// category, the gap-check report and subsidies. Validation is the server's.
'use strict';
(function () {
  const api = window.cwApi;
  /* The outbox and drafts belong to the signed-in user: on a shared phone the
   * next user never sends, or sees, another's visits (they wait for their own
   * user's next sign-in). */
  function mine(key) { const u = Alpine.store('ui').user; return 'cw.u' + (u ? u.id : 0) + '.' + key; }
  const OUTBOX = () => mine('visit.outbox');

  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX()) || '[]'); } catch (e) { return []; }
  }
  function setOutbox(list) {
    if (list.length) localStorage.setItem(OUTBOX(), JSON.stringify(list)); else localStorage.removeItem(OUTBOX());
  }
  /* Sends queued visits in order; each carries its client_key, so a visit the
   * server already has is not stored twice. Stops at the first network error. */
  let flushing = false;
  async function flushOutbox() {
    if (flushing) return 0;
    flushing = true;
    let sent = 0;
    try {
      let list = outbox();
      while (list.length) {
        const v = list[0];
        try {
          await api.post('/api/v1/persons/' + v.person + '/visits', v.body);
          sent++;
        } catch (e) {
          if (e.status === 0 || e.status >= 500 || e.status === 401) break; // still offline, or log in first
          v.error = e.message; // refused: keep it visible, do not retry forever
        }
        list = outbox().filter((x) => x.body.client_key !== v.body.client_key);
        if (v.error) list.push(Object.assign({}, v, { failed: true }));
        setOutbox(list);
        list = list.filter((x) => !x.failed);
      }
    } finally { flushing = false; }
    if (sent) window.dispatchEvent(new CustomEvent('cw-visits-sent', { detail: sent }));
    return sent;
  }
  window.addEventListener('online', flushOutbox);
  window.cwVisitOutbox = { flush: flushOutbox, list: outbox };

  document.addEventListener('alpine:init', function () {
    const Alpine = window.Alpine;
    const i18n = window.cwI18n;
    const CATS = ['isolated_elderly', 'unable_to_return_elderly', 'left_behind_elderly', 'left_behind_child', 'scattered_orphan',
      'child_in_difficulty', 'de_facto_unsupported_child', 'foster_child', 'extremely_poor'];
    const ENUMS = {
      chronic_disease: ['none', 'stable', 'unstable'],
      vaccination: ['full', 'incomplete', 'none'],
      situation: ['at_home', 'isolated_at_home', 'in_hospital', 'in_institution', 'moved', 'deceased'],
      mode: ['in_person', 'phone', 'video'],
      risk: ['red', 'yellow', 'green'],
    };
    const opts = (kind) => ENUMS[kind].map((v) => ({ value: v, label: i18n.t('p.' + kind + '.' + v) }));
    const catOpts = () => CATS.map((v) => ({ value: v, label: i18n.t('cat.' + v) }));
    const user = () => Alpine.store('ui').user || { scope: '', caps: [], role: '' };
    const can = (c) => user().caps.includes(c);
    function fieldErrors(e) {
      const out = {};
      (e.details || []).forEach((d) => { if (d.field && !out[d.field]) out[d.field] = d.message; });
      if (e.field && !out[e.field]) out[e.field] = e.message;
      return out;
    }
    function today() {
      // the local date in Asia/Shanghai, whatever the phone's zone
      const d = new Date(Date.now() + 8 * 3600 * 1000);
      return d.toISOString().slice(0, 10);
    }
    const catLabels = (cats) => (cats || []).map((c) => i18n.t('cat.' + c)).join('、');

    // ---- the list
    Alpine.data('personList', function () {
      return {
        items: [], total: 0, page: 1, perPage: 20, loading: false, error: '',
        division: '', category: '', q: '', cid: '', mine: false,
        get cats() { return catOpts(); },
        get canWrite() { return can('persons.write'); },
        get canExport() { return can('export'); },
        get isWorker() { return user().role === 'worker'; },
        get pages() { return Math.max(1, Math.ceil(this.total / this.perPage)); },
        async init() { this.division = user().scope; this.mine = this.isWorker; await this.load(); },
        params() {
          return { division: this.division, category: this.category, q: this.q, citizen_id: this.cid.trim(),
            worker: this.mine ? 'me' : '', page: this.page, per_page: this.perPage, masked: 1 };
        },
        async load() {
          this.loading = true;
          this.error = '';
          try {
            const r = await api.get('/api/v1/persons' + api.query(this.params()));
            this.items = r.items;
            this.total = r.total;
          } catch (e) { this.error = e.message; this.items = []; this.total = 0; }
          this.loading = false;
        },
        search() { this.page = 1; this.load(); },
        toggleMine() { this.mine = !this.mine; this.search(); },
        prev() { if (this.page > 1) { this.page--; this.load(); } },
        next() { if (this.page < this.pages) { this.page++; this.load(); } },
        exportUrl(fmt) { return '/api/v1/exports/persons' + api.query({ format: fmt, division: this.division, category: this.category }); },
        totalText() { return i18n.t('p.total', { n: this.total }); },
        href(it) { return '#/people/' + it.id; },
        cats1(it) { return catLabels(it.categories); },
        riskClass(it) { return 'chip risk-' + it.risk_class; },
        due(it) { return it.next_due || '—'; },
        ageSex(it) { return it.age + i18n.t('p.years') + ' · ' + i18n.t('p.sex.' + it.sex); },
      };
    });

    // ---- register / edit
    const EMPTY = { name: '', citizen_id: '', categories: [], division_code: '', address: '', phone: '', guardian: '',
      chronic_disease: 'none', vaccination: 'full', situation: 'at_home' };
    Alpine.data('personForm', function () {
      return {
        id: 0, form: JSON.parse(JSON.stringify(EMPTY)), original: null, errors: {}, message: '', busy: false, loaded: false,
        get cats() { return catOpts(); },
        get chronics() { return opts('chronic_disease'); },
        get vaccs() { return opts('vaccination'); },
        get situations() { return opts('situation'); },
        async init() {
          this.id = this.routeId || 0;
          if (!this.id && user().scope.length === 9) this.form.division_code = user().scope; // a township worker
          if (this.id) {
            try {
              const it = await api.get('/api/v1/persons/' + this.id + '?masked=1');
              this.original = it;
              Object.keys(EMPTY).forEach((k) => { if (k in it) this.form[k] = JSON.parse(JSON.stringify(it[k])); });
              this.form.citizen_id = '';
              this.form.phone = '';
            } catch (e) { this.message = e.message; }
          }
          this.loaded = true;
        },
        cidHint() { return this.original ? i18n.t('p.keep', { v: this.original.citizen_id }) : ''; },
        phoneHint() { return this.original && this.original.phone ? i18n.t('p.keep', { v: this.original.phone }) : ''; },
        hasCat(c) { return this.form.categories.includes(c); },
        toggleCat(c) {
          const i = this.form.categories.indexOf(c);
          if (i >= 0) this.form.categories.splice(i, 1); else this.form.categories.push(c);
        },
        err(f) { return this.errors[f] || ''; },
        bad(f) { return !!this.errors[f]; },
        body() {
          const b = JSON.parse(JSON.stringify(this.form));
          if (this.original) {
            if (!b.citizen_id) delete b.citizen_id;
            if (!b.phone) delete b.phone;
            Object.keys(b).forEach((k) => { if (JSON.stringify(this.original[k]) === JSON.stringify(b[k])) delete b[k]; });
          }
          return b;
        },
        async save() {
          this.busy = true;
          this.errors = {};
          this.message = '';
          try {
            const saved = this.id ? await api.patch('/api/v1/persons/' + this.id, this.body())
              : await api.post('/api/v1/persons', this.body());
            location.hash = '#/people/' + saved.id;
          } catch (e) {
            this.errors = fieldErrors(e);
            this.message = Object.keys(this.errors).length ? i18n.t('form.fix') : e.message;
          }
          this.busy = false;
        },
        back() { history.back(); },
      };
    });

    // ---- one person: facts, risk reasons, record a visit, visits, subsidies
    Alpine.data('personDetail', function () {
      return {
        p: null, visits: [], subsidies: [], error: '', unmasked: false,
        v: null, vErrors: {}, vMessage: '', vBusy: false, queued: 0,
        s: { month: '', amount: '', paid_date: '' }, sMessage: '',
        get canWrite() { return can('persons.write'); },
        get canPii() { return can('pii'); },
        get modes() { return opts('mode'); },
        get draftKey() { return mine('visit.draft.' + this.routeId); },
        async init() {
          this.v = this.loadDraft();
          this.queued = outbox().filter((x) => x.person === this.routeId).length;
          window.addEventListener('cw-visits-sent', () => { this.queued = outbox().filter((x) => x.person === this.routeId).length; this.reload(); });
          await this.reload();
          if (navigator.onLine) flushOutbox();
        },
        async reload() {
          try {
            this.p = await api.get('/api/v1/persons/' + this.routeId + '?masked=1');
            this.visits = (await api.get('/api/v1/persons/' + this.routeId + '/visits')).items;
            this.subsidies = (await api.get('/api/v1/persons/' + this.routeId + '/subsidies')).items;
          } catch (e) { this.error = e.message; }
        },
        async showPii() {
          // an unmasked view is audited on the server
          try { this.p = await api.get('/api/v1/persons/' + this.routeId); this.unmasked = true; } catch (e) { this.error = e.message; }
        },
        editHref() { return '#/people/' + this.routeId + '/edit'; },
        rows() {
          const p = this.p || {};
          return [
            ['f.citizen_id', p.citizen_id], ['p.birth', (p.birth_date || '') + ' · ' + p.age + i18n.t('p.years') + ' · ' + i18n.t('p.sex.' + p.sex)],
            ['p.categories', catLabels(p.categories)], ['f.division_code', p.division_name], ['f.address', p.address],
            ['f.phone', p.phone], ['p.guardian', p.guardian], ['p.worker', p.worker_name],
            ['p.situation', i18n.t('p.situation.' + p.situation)], ['p.chronic', i18n.t('p.chronic_disease.' + p.chronic_disease)],
            ['p.vaccination', i18n.t('p.vaccination.' + p.vaccination)], ['p.registered', p.registered],
            ['p.lastVisit', p.last_visit], ['p.nextDue', p.next_due],
          ].map((r) => ({ label: i18n.t(r[0]), value: r[1] || '—' }));
        },
        riskClass() { return 'chip risk-' + (this.p ? this.p.risk_class : ''); },
        riskText() { return this.p ? i18n.t('p.risk.' + this.p.risk_class) + ' · ' + i18n.t('p.interval', { n: this.p.visit_interval_days }) : ''; },
        reasons() { return this.p ? this.p.risk_reasons.map((r) => r.message + ' +' + r.points) : []; },
        // visit form with a draft in localStorage
        loadDraft() {
          try {
            const d = JSON.parse(localStorage.getItem(this.draftKey) || 'null');
            if (d) return d;
          } catch (e) { /* a broken draft starts afresh */ }
          return { date: today(), mode: 'in_person', health: '', supplies: '', safety: '', help: '', follow_up: '', client_key: '' };
        },
        keep() { localStorage.setItem(this.draftKey, JSON.stringify(this.v)); },
        setMode(m) { this.v.mode = m; this.keep(); },
        modeOn(m) { return this.v && this.v.mode === m; },
        vbad(f) { return !!this.vErrors[f]; },
        verr(f) { return this.vErrors[f] || ''; },
        async record() {
          this.vBusy = true;
          this.vErrors = {};
          this.vMessage = '';
          if (!this.v.client_key) this.v.client_key = 'v-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
          this.keep();
          const body = { date: this.v.date, mode: this.v.mode, findings: { health: this.v.health, supplies: this.v.supplies, safety: this.v.safety },
            help: this.v.help, follow_up: this.v.follow_up, client_key: this.v.client_key };
          try {
            const r = await api.post('/api/v1/persons/' + this.routeId + '/visits', body);
            localStorage.removeItem(this.draftKey);
            this.v = this.loadDraft();
            this.vMessage = i18n.t('v.saved', { d: r.next_due || '—' });
            await this.reload();
          } catch (e) {
            if (e.status === 0) {
              // offline: queued on the phone, sent once when the connection is back
              const list = outbox().filter((x) => x.body.client_key !== body.client_key);
              list.push({ person: this.routeId, name: this.p ? this.p.name : '', body });
              setOutbox(list);
              localStorage.removeItem(this.draftKey);
              this.v = this.loadDraft();
              this.queued = list.filter((x) => x.person === this.routeId).length;
              this.vMessage = i18n.t('v.queued');
            } else {
              this.vErrors = fieldErrors(e);
              this.vMessage = e.message;
            }
          }
          this.vBusy = false;
        },
        findingText(f) { return [f.health, f.supplies, f.safety, f.text].filter(Boolean).join('；'); },
        modeText(x) { return i18n.t('p.mode.' + x.mode); },
        subState(x) { return x.unpaid ? (x.late ? i18n.t('s.late') : i18n.t('s.unpaid')) : i18n.t('s.paid') + ' ' + x.paid_date; },
        subClass(x) { return x.late ? 'chip risk-red' : x.unpaid ? 'chip risk-yellow' : 'chip risk-green'; },
        async setSubsidy() {
          this.sMessage = '';
          const b = { amount: Number(this.s.amount) };
          if (this.s.paid_date) b.paid_date = this.s.paid_date;
          try {
            await api.put('/api/v1/persons/' + this.routeId + '/subsidies/' + this.s.month, b);
            this.s = { month: '', amount: '', paid_date: '' };
            await this.reload();
          } catch (e) { this.sMessage = e.message; }
        },
      };
    });

    // ---- due and overdue (a worker's day; officials by area)
    Alpine.data('visitTasks', function () {
      return {
        overdue: [], due: [], nOverdue: 0, nDue: 0, today: '', division: '', mine: false, error: '', queued: [],
        get isWorker() { return user().role === 'worker'; },
        async init() {
          this.division = user().scope;
          this.mine = this.isWorker;
          this.queued = outbox();
          window.addEventListener('cw-visits-sent', () => { this.queued = outbox(); this.load(); });
          await this.load();
          if (navigator.onLine) flushOutbox();
        },
        async load() {
          this.error = '';
          const q = { division: this.division, worker: this.mine ? 'me' : '', per_page: 200 };
          try {
            const o = await api.get('/api/v1/visits/overdue' + api.query(q));
            const d = await api.get('/api/v1/visits/due' + api.query(Object.assign({ within: 7 }, q)));
            this.overdue = o.items; this.nOverdue = o.total;
            this.due = d.items; this.nDue = d.total;
            this.today = o.today;
          } catch (e) { this.error = e.message; }
        },
        toggleMine() { this.mine = !this.mine; this.load(); },
        href(it) { return '#/people/' + it.person_id; },
        late(it) { return i18n.t('v.daysLate', { n: it.days_overdue }); },
        dueText(it) { return it.due === this.today ? i18n.t('v.today') : it.due; },
        riskClass(it) { return 'chip risk-' + it.risk_class; },
        riskText(it) { return i18n.t('p.risk.' + it.risk_class); },
        async flush() { await flushOutbox(); this.queued = outbox(); },
      };
    });

    // ---- officials: coverage, overdue by area, gap checks, subsidies
    Alpine.data('coverage', function () {
      return {
        division: '', cov: null, gaps: null, subs: [], nLate: 0, error: '',
        get canExport() { return can('export'); },
        async init() { this.division = user().scope; await this.load(); },
        async load() {
          this.error = '';
          const q = api.query({ division: this.division });
          try {
            this.cov = await api.get('/api/v1/visits/coverage' + q);
            this.gaps = await api.get('/api/v1/gaps' + q);
            const s = await api.get('/api/v1/subsidies' + api.query({ division: this.division, unpaid: 1, per_page: 100 }));
            this.subs = s.items; this.nLate = s.late;
            this.chart();
          } catch (e) { this.error = e.message; }
        },
        setDivision(code) { this.division = code; this.load(); },
        pct(x) { return x.people ? Math.round(100 * x.visited / x.people) + '%' : '—'; },
        divHref(x) { return '#/visits'; },
        catLabel(x) { return i18n.t('cat.' + x.category); },
        personHref(x) { return '#/people/' + x.person_id; },
        dupText(g) { return g.records.map((r) => (r.name || i18n.t('g.outside')) + '（' + r.division_name + '）').join('、'); },
        subState(x) { return x.late ? i18n.t('s.late') : i18n.t('s.unpaid'); },
        exportUrl(fmt) { return '/api/v1/exports/subsidies' + api.query({ format: fmt, division: this.division, unpaid: 1 }); },
        chart() {
          const el = this.$refs.chart;
          if (!el || !window.echarts || !this.cov) return;
          const rows = this.cov.by_division;
          const c = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
          c.setOption({
            tooltip: { trigger: 'axis' }, legend: { bottom: 0 },
            grid: { left: 40, right: 10, top: 10, bottom: 60 },
            xAxis: { type: 'category', data: rows.map((r) => r.division_name || r.division_code) },
            yAxis: { type: 'value' },
            series: [
              { name: i18n.t('c.people'), type: 'bar', data: rows.map((r) => r.people) },
              { name: i18n.t('c.visited'), type: 'bar', data: rows.map((r) => r.visited) },
              { name: i18n.t('c.overdue'), type: 'bar', data: rows.map((r) => r.overdue) },
            ],
          }, true);
        },
      };
    });
  });
})();
