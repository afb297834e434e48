// pages.js — page components: home, institutions (list, form, detail), the
// division picker, users. All validation is the server's: forms show the
// field errors it returns.
'use strict';
document.addEventListener('alpine:init', function () {
  const Alpine = window.Alpine;
  const api = window.cwApi;
  const i18n = window.cwI18n;

  const ENUMS = {
    type: ['elderly_care', 'child_welfare', 'minor_protection', 'social_welfare', 'mental_welfare', 'other'],
    ownership: ['public', 'private', 'public_private'],
    medical: ['internal', 'contracted', 'none'],
    status: ['normal', 'closed', 'partial', 'resumed', 'suspended'],
    risk_level: ['high', 'medium', 'low'],
    role: ['admin', 'official', 'leader', 'reporter', 'worker', 'partner'],
  };
  const PREFIX = { type: 'type.', ownership: 'ownership.', medical: 'medical.', status: 'status.', risk_level: 'risk.', role: 'role.' };

  function options(kind) {
    return ENUMS[kind].map((v) => ({ value: v, label: i18n.t(PREFIX[kind] + v) }));
  }
  function fieldErrors(e) {
    const out = {};
    (e.details || []).forEach((d) => { if (d.field && !out[d.field]) out[d.field] = d.message; });
    if (e.field && !out[e.field]) out[e.field] = e.message;
    return out;
  }
  function fmtTime(sec) {
    if (!sec) return '';
    const d = new Date(sec * 1000);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function user() { return Alpine.store('ui').user || { scope: '', caps: [] }; }

  // ---- division picker: province → city → county → township, never above the user's scope
  Alpine.data('divPicker', function () {
    return {
      value: '',
      levels: [],      // [{options:[{code,name}], selected:''}]
      rootName: '',
      async init() {
        const root = user().scope;
        this.rootName = root ? '' : i18n.t('home.national');
        if (root) {
          try { this.rootName = (await api.get('/api/v1/divisions/' + root)).full_name; } catch (e) { this.rootName = root; }
        }
        await this.build(this.value);
        this.$watch('value', (v) => { if (v !== this.current()) this.build(v); });
      },
      current() {
        for (let i = this.levels.length - 1; i >= 0; i--) if (this.levels[i].selected) return this.levels[i].selected;
        return user().scope;
      },
      async children(code) {
        if (code.length >= 9) return [];
        const r = await api.get('/api/v1/divisions' + api.query({ parent: code }));
        return r.items.map((d) => ({ code: d.code, name: d.name }));
      },
      async build(value) {
        const root = user().scope;
        const target = value && value.indexOf(root) === 0 ? value : root;
        const lens = [2, 4, 6, 9].filter((n) => n > root.length && n <= target.length);
        const levels = [];
        let parent = root;
        levels.push({ options: await this.children(parent), selected: '' });
        for (const n of lens) {
          const code = target.slice(0, n);
          levels[levels.length - 1].selected = code;
          parent = code;
          const opts = await this.children(parent);
          if (opts.length) levels.push({ options: opts, selected: '' });
        }
        this.levels = levels.filter((l) => l.options.length);
      },
      async pick(i) {
        const sel = this.levels[i].selected;
        this.levels = this.levels.slice(0, i + 1);
        if (sel) {
          const opts = await this.children(sel);
          if (opts.length) this.levels.push({ options: opts, selected: '' });
        }
        this.value = this.current();
        this.$dispatch('cw-division', this.value);
      },
    };
  });

  // ---- home: who am I, institutions by status
  Alpine.data('home', function () {
    return {
      total: null,
      async init() {
        if (!user().caps.includes('institutions.read')) return;
        const counts = await Promise.all(ENUMS.status.map((s) =>
          api.get('/api/v1/institutions' + api.query({ status: s, per_page: 1 })).then((r) => r.total)));
        this.total = counts.reduce((a, b) => a + b, 0);
        const el = this.$refs.chart;
        if (!el || !window.echarts) return;
        const chart = window.echarts.init(el);
        chart.setOption({
          tooltip: { trigger: 'item' },
          legend: { bottom: 0 },
          series: [{ type: 'pie', radius: ['40%', '68%'], data: ENUMS.status.map((s, i) => ({ name: i18n.t('status.' + s), value: counts[i] })) }],
        });
        window.addEventListener('resize', () => chart.resize());
      },
    };
  });

  // ---- institutions list
  Alpine.data('instList', function () {
    return {
      items: [], total: 0, page: 1, perPage: 20, loading: false, error: '',
      division: '', type: '', status: '', q: '',
      get types() { return options('type'); },
      get statuses() { return options('status'); },
      get canWrite() { return user().caps.includes('institutions.write'); },
      get canExport() { return user().caps.includes('export'); },
      get pages() { return Math.max(1, Math.ceil(this.total / this.perPage)); },
      async init() {
        this.division = user().scope;
        await this.load();
      },
      params() {
        return { division: this.division, type: this.type, status: this.status, q: this.q, page: this.page, per_page: this.perPage };
      },
      async load() {
        this.loading = true;
        this.error = '';
        try {
          const r = await api.get('/api/v1/institutions' + api.query(this.params()));
          this.items = r.items;
          this.total = r.total;
        } catch (e) { this.error = e.message; }
        this.loading = false;
      },
      search() { this.page = 1; this.load(); },
      setDivision(code) { this.division = code; this.search(); },
      prev() { if (this.page > 1) { this.page--; this.load(); } },
      next() { if (this.page < this.pages) { this.page++; this.load(); } },
      exportUrl(fmt) { return '/api/v1/exports/institutions' + api.query({ format: fmt, division: this.division }); },
      totalText() { return i18n.t('inst.total', { n: this.total }); },
      statusClass(it) { return 'chip chip-' + it.status; },
      href(it) { return '#/institutions/' + it.id; },
    };
  });

  // ---- institution create / edit
  const EMPTY = { name: '', uscc: '', type: 'elderly_care', ownership: 'public', division_code: '', address: '', beds: 0,
    contact_name: '', contact_phone: '', medical: 'none', status: 'normal', risk_level: 'low', status_note: '' };

  Alpine.data('instForm', function () {
    return {
      id: 0, form: Object.assign({}, EMPTY), original: null, errors: {}, message: '', busy: false, loaded: false,
      get types() { return options('type'); },
      get ownerships() { return options('ownership'); },
      get medicals() { return options('medical'); },
      get statuses() { return options('status'); },
      get risks() { return options('risk_level'); },
      get statusChanged() { return !!this.original && this.original.status !== this.form.status; },
      async init() {
        this.id = this.routeId || 0;
        if (!this.id && user().scope.length >= 6) this.form.division_code = user().scope; // a county official's own county
        if (this.id) {
          try {
            const it = await api.get('/api/v1/institutions/' + this.id);
            this.original = it;
            Object.keys(EMPTY).forEach((k) => { if (k in it) this.form[k] = it[k]; });
            this.form.status_note = '';
          } catch (e) { this.message = e.message; }
        }
        this.loaded = true;
      },
      err(f) { return this.errors[f] || ''; },
      bad(f) { return !!this.errors[f]; },
      body() {
        const b = Object.assign({}, this.form);
        b.beds = Number(b.beds);
        if (!Number.isInteger(b.beds)) b.beds = this.form.beds; // let the server explain
        if (!this.statusChanged) delete b.status_note;
        if (this.original) {
          Object.keys(b).forEach((k) => { if (k !== 'status_note' && this.original[k] === b[k]) delete b[k]; });
        }
        return b;
      },
      async save() {
        this.busy = true;
        this.errors = {};
        this.message = '';
        try {
          const saved = this.id ? await api.patch('/api/v1/institutions/' + this.id, this.body())
            : await api.post('/api/v1/institutions', this.body());
          location.hash = '#/institutions/' + saved.id;
        } catch (e) {
          this.errors = fieldErrors(e);
          this.message = Object.keys(this.errors).length ? i18n.t('form.fix') : e.message;
        }
        this.busy = false;
      },
      setDivision(code) { this.form.division_code = code; },
      back() { history.back(); },
    };
  });

  // ---- institution detail with status history
  Alpine.data('instDetail', function () {
    return {
      it: null, history: [], error: '',
      get canWrite() { return user().caps.includes('institutions.write'); },
      async init() {
        try {
          this.it = await api.get('/api/v1/institutions/' + this.routeId);
          this.history = (await api.get('/api/v1/institutions/' + this.routeId + '/history')).items;
        } catch (e) { this.error = e.message; }
      },
      time(sec) { return fmtTime(sec); },
      editHref() { return '#/institutions/' + this.routeId + '/edit'; },
      rows() {
        const it = this.it || {};
        return [
          ['f.uscc', it.uscc], ['f.type', i18n.label('itype', it.type, it.type_label)],
          ['f.ownership', i18n.label('iown', it.ownership, it.ownership_label)],
          ['f.division_code', (it.division_name || '') + ' (' + (it.division_code || '') + ')'], ['f.address', it.address],
          ['f.beds', String(it.beds)], ['f.contact_name', it.contact_name], ['f.contact_phone', it.contact_phone],
          ['f.medical', i18n.label('imed', it.medical, it.medical_label)],
          ['f.status', i18n.label('ist', it.status, it.status_label)],
          ['f.risk_level', i18n.label('risk', it.risk_level, it.risk_label)],
        ].map((r) => ({ label: i18n.t(r[0]), value: r[1] || '—' }));
      },
    };
  });

  // ---- users (admins)
  Alpine.data('userAdmin', function () {
    return {
      items: [], total: 0, error: '', message: '', errors: {}, busy: false, showForm: false,
      form: { login: '', name: '', role: 'official', scope: '', institution_id: '', partner_id: '', pii: false, password: '' },
      get roles() { return options('role'); },
      async init() { this.form.scope = user().scope; await this.load(); },
      async load() {
        try {
          const r = await api.get('/api/v1/users' + api.query({ per_page: 500 }));
          this.items = r.items;
          this.total = r.total;
        } catch (e) { this.error = e.message; }
      },
      err(f) { return this.errors[f] || ''; },
      bad(f) { return !!this.errors[f]; },
      roleLabel(u) { return i18n.t('role.' + u.role); },
      stateText(u) { return u.disabled ? i18n.t('users.disabled') : u.locked ? i18n.t('users.locked') : i18n.t('users.active'); },
      toggleText(u) { return u.disabled ? i18n.t('users.enable') : i18n.t('users.disable'); },
      toggleForm() { this.showForm = !this.showForm; },
      async create() {
        this.busy = true;
        this.errors = {};
        this.message = '';
        const b = { login: this.form.login, name: this.form.name, role: this.form.role, password: this.form.password, pii: this.form.pii };
        if (this.form.role === 'reporter') b.institution_id = Number(this.form.institution_id) || 0;
        else b.scope = this.form.scope;
        if (this.form.role === 'partner') b.partner_id = Number(this.form.partner_id) || null;
        try {
          await api.post('/api/v1/users', b);
          this.form.login = this.form.name = this.form.password = '';
          this.showForm = false;
          await this.load();
        } catch (e) {
          this.errors = fieldErrors(e);
          this.message = e.message;
        }
        this.busy = false;
      },
      async toggle(u) {
        try {
          await api.patch('/api/v1/users/' + u.id, { disabled: !u.disabled });
          await this.load();
        } catch (e) { this.message = e.message; }
      },
    };
  });
});
