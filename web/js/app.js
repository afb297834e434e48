// app.js — the application shell: session, hash routing, the role's menu,
// and the $t translation magic. Page components live in pages.js.
'use strict';
document.addEventListener('alpine:init', function () {
  const Alpine = window.Alpine;
  const api = window.cwApi;
  const i18n = window.cwI18n;

  Alpine.store('ui', { ver: 0, user: null, flash: '' });
  // $t('key') in templates; reading ver makes every text re-render on a language switch
  Alpine.magic('t', function () {
    return function (key, vars) { return Alpine.store('ui').ver >= 0 ? i18n.t(key, vars) : key; };
  });
  // $lbl('ist', it.status, it.status_label): a coded value in the chosen language
  Alpine.magic('lbl', function () {
    return function (prefix, code, fallback) { return Alpine.store('ui').ver >= 0 ? i18n.label(prefix, code, fallback) : fallback; };
  });

  const MENU = [
    { page: 'home', key: 'menu.home', cap: null },
    { page: 'report', key: 'menu.report', cap: 'reports.submit' },
    { page: 'dashboard', key: 'menu.dashboard', cap: 'reports.read', notRole: 'reporter' },
    { page: 'needs', key: 'menu.needs', cap: 'needs.read', notRole: 'partner' },
    { page: 'matching', key: 'menu.matching', cap: 'matching' },
    { page: 'partner', key: 'menu.partner', cap: 'offers' },
    { page: 'institutions', key: 'menu.institutions', cap: 'institutions.read' },
    { page: 'visits', key: 'menu.visits', cap: 'persons.read' },
    { page: 'people', key: 'menu.people', cap: 'persons.read' },
    { page: 'coverage', key: 'menu.coverage', cap: 'persons.read', notRole: 'worker' },
    { page: 'users', key: 'menu.users', cap: 'users' },
  ];

  function parseHash() {
    const parts = (location.hash || '#/').replace(/^#\/?/, '').split('/').filter(Boolean);
    if (parts[0] === 'institutions' && parts[1] === 'new') return { page: 'inst-form', id: 0 };
    if (parts[0] === 'institutions' && parts[1] && parts[2] === 'edit') return { page: 'inst-form', id: Number(parts[1]) };
    if (parts[0] === 'institutions' && parts[1]) return { page: 'inst-detail', id: Number(parts[1]) };
    if (parts[0] === 'institutions') return { page: 'institutions', id: 0 };
    if (parts[0] === 'users') return { page: 'users', id: 0 };
    if (parts[0] === 'people' && parts[1] === 'new') return { page: 'person-form', id: 0 };
    if (parts[0] === 'people' && parts[1] && parts[2] === 'edit') return { page: 'person-form', id: Number(parts[1]) };
    if (parts[0] === 'people' && parts[1]) return { page: 'person-detail', id: Number(parts[1]) };
    if (parts[0] === 'people') return { page: 'people', id: 0 };
    if (parts[0] === 'visits') return { page: 'visits', id: 0 };
    if (parts[0] === 'coverage') return { page: 'coverage', id: 0 };
    if (parts[0] === 'report') return { page: 'report', id: Number(parts[1] || 0) };
    if (parts[0] === 'dashboard') return { page: 'dashboard', id: 0 };
    if (parts[0] === 'needs') return { page: 'needs', id: 0 };
    if (parts[0] === 'matching') return { page: 'matching', id: 0 };
    if (parts[0] === 'partner') return { page: 'partner', id: 0 };
    return { page: 'home', id: 0 };
  }

  Alpine.data('app', function () {
    return {
      ready: false,
      page: 'home',
      routeId: 0,
      menuOpen: false,
      async init() {
        await i18n.load(i18n.lang);
        Alpine.store('ui').ver++;
        api.onUnauthorized(() => { this.signedOut(i18n.t('err.session')); });
        window.addEventListener('hashchange', () => this.route());
        try {
          const s = await api.get('/api/v1/session');
          if (s.user) this.signedIn(s);
        } catch (e) {
          Alpine.store('ui').user = null;
        }
        this.route();
        this.ready = true;
      },
      get user() { return Alpine.store('ui').user; },
      get signed() { return !!Alpine.store('ui').user; },
      signedIn(s) {
        Alpine.store('ui').user = s.user;
        if (s.csrf) api.setCsrf(s.csrf);
      },
      onSignedIn(ev) {
        this.signedIn(ev.detail);
        this.route();
      },
      signedOut(message) {
        Alpine.store('ui').user = null;
        Alpine.store('ui').flash = message || '';
        api.setCsrf('');
      },
      route() {
        const r = parseHash();
        this.page = r.page;
        this.routeId = r.id;
        this.menuOpen = false;
        window.scrollTo(0, 0);
      },
      can(cap) { const u = Alpine.store('ui').user; return !!u && (!cap || u.caps.includes(cap)); },
      get menu() {
        const u = Alpine.store('ui').user;
        return MENU.filter((m) => this.can(m.cap) && !(m.notRole && u && u.role === m.notRole));
      },
      isPage(p) { return this.page === p || (p === 'institutions' && this.page.indexOf('inst-') === 0) || (p === 'people' && this.page.indexOf('person-') === 0); },
      toggleMenu() { this.menuOpen = !this.menuOpen; },
      async switchLang() {
        await i18n.load(i18n.other());
        Alpine.store('ui').ver++;
      },
      async logout() {
        try { await api.del('/api/v1/session'); } catch (e) { /* already gone */ }
        this.signedOut('');
        location.hash = '#/';
      },
      scopeText() {
        const u = Alpine.store('ui').user;
        if (!u) return '';
        return u.scope ? u.scope : i18n.t('home.national');
      },
    };
  });

  Alpine.data('loginForm', function () {
    return {
      login: '',
      password: '',
      busy: false,
      error: '',
      async submit() {
        this.busy = true;
        this.error = '';
        try {
          const s = await api.post('/api/v1/session', { login: this.login, password: this.password });
          this.password = '';
          Alpine.store('ui').flash = '';
          this.$dispatch('cw-signed-in', s);
        } catch (e) {
          this.error = e.message;
        }
        this.busy = false;
      },
    };
  });
});
