// api.js — the one way the UI talks to the server: JSON over fetch, the
// session cookie, the CSRF header on state changes, errors as thrown objects
// {status, code, message, field, details}.
'use strict';
window.cwApi = (function () {
  let csrf = sessionStorage.getItem('cw.csrf') || '';
  let onUnauthorized = null;

  function setCsrf(token) {
    csrf = token || '';
    if (csrf) sessionStorage.setItem('cw.csrf', csrf); else sessionStorage.removeItem('cw.csrf');
  }

  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
    const opts = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw { status: 0, code: 'network', message: window.cwI18n.t('err.network') };
    }
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = (data && data.error) || {};
      const out = { status: res.status, code: err.code || 'http_' + res.status, message: err.message || res.statusText,
        field: err.field || '', details: err.details || [] };
      if (res.status === 401 && path !== '/api/v1/session' && onUnauthorized) onUnauthorized(out);
      throw out;
    }
    return data;
  }

  function query(params) {
    const q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      const v = params[k];
      if (v !== '' && v !== null && v !== undefined) q.set(k, v);
    });
    const s = q.toString();
    return s ? '?' + s : '';
  }

  return {
    setCsrf,
    onUnauthorized(fn) { onUnauthorized = fn; },
    get: (p) => call('GET', p),
    post: (p, b) => call('POST', p, b),
    put: (p, b) => call('PUT', p, b),
    patch: (p, b) => call('PATCH', p, b),
    del: (p) => call('DELETE', p),
    query,
  };
})();
