// needs.js — needs and matching in the browser: an institution's needs and
// difficulties (raise, confirm or dismiss proposals, receive deliveries), the
// official's needs board with filters, the matching screen (run proposals,
// confirm, edit or reject each), the partner portal (its offers, pledges to
// ship, a needs summary of its area) and the needs tiles of the dashboard.
// Every rule is the server's: forms show the errors it returns. Data is only
// ever inserted as text (x-text), never as HTML.
'use strict';
document.addEventListener('alpine:init', function () {
  const Alpine = window.Alpine;
  const api = window.cwApi;
  const i18n = window.cwI18n;

  function user() { return Alpine.store('ui').user || { scope: '', caps: [], role: '' }; }
  function fieldErrors(e) {
    const out = {};
    (e.details || []).forEach((d) => { if (d.field && !out[d.field]) out[d.field] = d.message; });
    if (e.field && !out[e.field]) out[e.field] = e.message;
    return out;
  }
  function localDate(days) {
    const d = new Date(Date.now() + (days || 0) * 86400000);
    return d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
  }
  const URGENCIES = ['urgent', 'high', 'normal'];
  const STATUSES = ['outstanding', 'open', 'partially_pledged', 'pledged', 'in_transit', 'partially_received', 'received', 'proposed', 'cancelled'];
  const CATEGORIES = ['medical', 'drugs', 'supplies', 'staff', 'funds', 'other'];
  async function catalogue() {
    const r = await api.get('/api/v1/items');
    return r.items;
  }

  // ---- an institution's needs and difficulties; the official's needs board
  Alpine.data('needsPage', function () {
    return {
      items: [], institutions: [], needs: [], total: 0, proposals: [], pledges: [], diffs: [], diffCounts: null,
      division: '', item: '', status: '', urgency: '',
      form: { institution_id: '', item: 'antipyretic', quantity: '', urgency: 'high', needed_by: localDate(3), note: '' },
      diffForm: { institution_id: '', category: 'drugs', text: '' },
      errors: {}, diffErrors: {}, message: '', busy: false, showForm: false, showDiff: false,
      get isReporter() { return user().role === 'reporter'; },
      get canWrite() { return user().caps.includes('needs.write'); },
      get canExport() { return user().caps.includes('export'); },
      get urgencies() { return URGENCIES.map((v) => ({ value: v, label: i18n.t('urg.' + v) })); },
      get statuses() { return STATUSES.map((v) => ({ value: v, label: i18n.t('nst.' + v) })); },
      get categories() { return CATEGORIES.map((v) => ({ value: v, label: i18n.t('cat.' + v) })); },
      async init() {
        try {
          this.items = await catalogue();
          if (this.isReporter) {
            this.form.institution_id = user().institution_id;
            this.diffForm.institution_id = user().institution_id;
          } else if (this.canWrite) {
            this.institutions = (await api.get('/api/v1/institutions?per_page=500')).items;
          }
        } catch (e) { this.message = e.message; }
        await this.load();
      },
      onDivision(ev) { this.division = ev.detail; this.load(); },
      async load() {
        try {
          const q = api.query({ division: this.division, item: this.item, status: this.status, urgency: this.urgency, per_page: 200 });
          const r = await api.get('/api/v1/needs' + q);
          this.needs = r.items;
          this.total = r.total;
          this.proposals = (await api.get('/api/v1/needs' + api.query({ status: 'proposed', per_page: 100, division: this.division }))).items;
          this.pledges = (await api.get('/api/v1/pledges' + api.query({ division: this.division, per_page: 100 }))).items;
          const d = await api.get('/api/v1/difficulties' + api.query({ division: this.division, per_page: 100 }));
          this.diffs = d.items.map((x) => Object.assign(x, { newStatus: x.status, newResponse: x.response }));
          this.diffCounts = d.counts;
        } catch (e) { this.message = e.message; }
      },
      itemName(code) { const i = this.items.find((x) => x.code === code); return i ? i.name_zh : code; },
      unit(code) { const i = this.items.find((x) => x.code === code); return i ? i.unit : ''; },
      toggleForm() { this.showForm = !this.showForm; this.errors = {}; },
      toggleDiff() { this.showDiff = !this.showDiff; this.diffErrors = {}; },
      async raise() {
        this.busy = true; this.errors = {}; this.message = '';
        const body = { institution_id: Number(this.form.institution_id), item: this.form.item, quantity: Number(this.form.quantity),
          urgency: this.form.urgency, needed_by: this.form.needed_by, note: this.form.note };
        try {
          const n = await api.post('/api/v1/needs', body);
          this.message = i18n.t('needs.raised', { ref: n.ref });
          this.form.quantity = ''; this.form.note = ''; this.showForm = false;
          await this.load();
        } catch (e) { this.errors = fieldErrors(e); this.message = e.message; }
        this.busy = false;
      },
      async act(n, action) {
        this.message = '';
        try {
          await api.patch('/api/v1/needs/' + n.id, { action: action });
          await this.load();
        } catch (e) { this.message = e.message; }
      },
      async receive(p) {
        this.message = '';
        const q = p.got === undefined || p.got === '' ? p.quantity : Number(p.got);
        try {
          await api.patch('/api/v1/pledges/' + p.id, { status: 'received', received_quantity: q });
          await this.load();
        } catch (e) { this.message = e.message; }
      },
      async raiseDiff() {
        this.busy = true; this.diffErrors = {}; this.message = '';
        try {
          await api.post('/api/v1/difficulties', { institution_id: Number(this.diffForm.institution_id), category: this.diffForm.category, text: this.diffForm.text });
          this.diffForm.text = ''; this.showDiff = false;
          await this.load();
        } catch (e) { this.diffErrors = fieldErrors(e); this.message = e.message; }
        this.busy = false;
      },
      async respond(d) {
        this.message = '';
        const body = {};
        if (d.newStatus !== d.status) body.status = d.newStatus;
        if (d.newResponse !== d.response) body.response = d.newResponse;
        if (!Object.keys(body).length) return;
        try {
          await api.patch('/api/v1/difficulties/' + d.id, body);
          await this.load();
        } catch (e) { this.message = e.message; }
      },
      exportHref(fmt) { return '/api/v1/needs/export' + api.query({ division: this.division, format: fmt }); },
      figures(n) { return n.requested + ' / ' + n.pledged + ' / ' + n.in_transit + ' / ' + n.received; },
      catCount(c) { return this.diffCounts && this.diffCounts.by_category[c.value] ? this.diffCounts.by_category[c.value] : 0; },
      nstLabel(s) { return i18n.t('nst.' + s); },
      canReceive(p) { return p.status === 'shipped' && (this.isReporter || user().caps.includes('matching')); },
    };
  });

  // ---- matching: run proposals for a division, confirm / edit / reject each
  Alpine.data('matching', function () {
    return {
      items: [], division: '', item: '', proposals: [], ran: false, message: '', busy: false, took: null, pledges: [],
      partners: [], showPartner: false, pform: { name: '', kind: 'charity', division_code: '', contact_name: '', contact_phone: '' }, perrors: {},
      get kinds() { return ['charity', 'social_work', 'volunteer'].map((v) => ({ value: v, label: i18n.t('kind.' + v) })); },
      async init() {
        this.division = user().scope;
        this.pform.division_code = user().scope;
        try { this.items = await catalogue(); } catch (e) { this.message = e.message; }
        await this.loadPledges();
        await this.loadPartners();
      },
      async loadPartners() {
        try { this.partners = (await api.get('/api/v1/partners')).items; } catch (e) { this.message = e.message; }
      },
      togglePartner() { this.showPartner = !this.showPartner; this.perrors = {}; },
      async createPartner() {
        this.busy = true; this.perrors = {}; this.message = '';
        try {
          const p = await api.post('/api/v1/partners', this.pform);
          this.message = i18n.t('partner.created', { name: p.name, id: p.id });
          this.pform.name = ''; this.pform.contact_name = ''; this.pform.contact_phone = ''; this.showPartner = false;
          await this.loadPartners();
        } catch (e) { this.perrors = fieldErrors(e); this.message = e.message; }
        this.busy = false;
      },
      onDivision(ev) { this.division = ev.detail; },
      async run() {
        this.busy = true; this.message = '';
        try {
          const body = { division: this.division };
          if (this.item) body.item = this.item;
          const r = await api.post('/api/v1/matching/proposals', body);
          this.proposals = r.proposals.map((p, i) => Object.assign(p, { key: i, qty: p.quantity, state: 'pending', note: '' }));
          this.took = r.took_ms;
          this.ran = true;
        } catch (e) { this.message = e.message; }
        this.busy = false;
      },
      async confirm(p) {
        try {
          await api.post('/api/v1/pledges', { need_id: p.need_id, offer_id: p.offer_id, quantity: Number(p.qty) });
          p.state = 'done'; p.note = i18n.t('match.done');
        } catch (e) { p.state = 'error'; p.note = e.message; }
      },
      reject(p) { p.state = 'rejected'; p.note = i18n.t('match.rejected'); },
      async confirmAll() {
        for (const p of this.proposals) if (p.state === 'pending') await this.confirm(p);
        await this.loadPledges();
      },
      pending(p) { return p.state === 'pending' || p.state === 'error'; },
      levelLabel(p) { return i18n.t('lvl.' + p.level); },
      urgLabel(p) { return i18n.t('urg.' + p.urgency); },
      itemName(code) { const i = this.items.find((x) => x.code === code); return i ? i.name_zh : code; },
      async loadPledges() {
        try { this.pledges = (await api.get('/api/v1/pledges?per_page=50')).items; } catch (e) { this.message = e.message; }
      },
      async move(p, status) {
        this.message = '';
        try {
          await api.patch('/api/v1/pledges/' + p.id, { status: status });
          await this.loadPledges();
        } catch (e) { this.message = e.message; }
      },
    };
  });

  // ---- partner portal: its offers, pledges to ship, the needs of its area
  Alpine.data('partnerPortal', function () {
    return {
      partner: null, items: [], offers: [], pledges: [], summary: null, message: '', busy: false, errors: {}, showForm: false,
      form: { item: 'antipyretic', quantity: '', division_code: '', available_from: localDate(0), note: '' },
      async init() {
        try {
          this.items = await catalogue();
          const p = await api.get('/api/v1/partners');
          this.partner = p.items[0] || null;
          if (this.partner) this.form.division_code = this.partner.division_code;
        } catch (e) { this.message = e.message; }
        await this.load();
      },
      async load() {
        try {
          this.offers = (await api.get('/api/v1/offers?per_page=200')).items;
          this.pledges = (await api.get('/api/v1/pledges?per_page=200')).items;
          this.summary = await api.get('/api/v1/needs/summary');
        } catch (e) { this.message = e.message; }
      },
      toggleForm() { this.showForm = !this.showForm; this.errors = {}; },
      async offer() {
        if (!this.partner) return;
        this.busy = true; this.errors = {}; this.message = '';
        try {
          await api.post('/api/v1/offers', { partner_id: this.partner.id, item: this.form.item, quantity: Number(this.form.quantity),
            division_code: this.form.division_code, available_from: this.form.available_from, note: this.form.note });
          this.form.quantity = ''; this.form.note = ''; this.showForm = false;
          await this.load();
        } catch (e) { this.errors = fieldErrors(e); this.message = e.message; }
        this.busy = false;
      },
      async withdraw(o) {
        try { await api.patch('/api/v1/offers/' + o.id, { status: 'withdrawn' }); await this.load(); } catch (e) { this.message = e.message; }
      },
      async ship(p) {
        try { await api.patch('/api/v1/pledges/' + p.id, { status: 'shipped' }); await this.load(); } catch (e) { this.message = e.message; }
      },
    };
  });

  // ---- dashboard tiles: the needs of the scope at a glance
  Alpine.data('needTiles', function () {
    return {
      s: null, unresolved: null,
      async init() {
        try {
          this.s = await api.get('/api/v1/needs/summary');
          if (user().role !== 'partner') {
            const d = await api.get('/api/v1/difficulties?per_page=1');
            this.unresolved = Object.values(d.counts.by_category).reduce((a, b) => a + b, 0);
          }
        } catch (e) { this.s = null; }
      },
      v(k) { return this.s ? this.s.total[k] : 0; },
      proposed() { return this.s && this.s.by_status.proposed ? this.s.by_status.proposed : 0; },
    };
  });
});
