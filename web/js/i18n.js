// i18n.js — Simplified Chinese first, English second. Strings live in
// /i18n/*.json; the choice is kept in localStorage.
'use strict';
window.cwI18n = (function () {
  const langs = ['zh-CN', 'en'];
  let lang = localStorage.getItem('cw.lang');
  if (!langs.includes(lang)) lang = 'zh-CN';
  let dict = {};

  async function load(l) {
    const res = await fetch('/i18n/' + l + '.json', { credentials: 'same-origin' });
    dict = await res.json();
    lang = l;
    localStorage.setItem('cw.lang', l);
    document.documentElement.lang = l;
    document.title = dict['app.title'] || 'carewatch';
  }

  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : key;
    if (vars) Object.keys(vars).forEach(function (k) { s = s.split('{' + k + '}').join(String(vars[k])); });
    return s;
  }

  // A coded value's name in this language: in Chinese the server's label
  // (fallback); otherwise the string under prefix.code, else that label — so a
  // code the strings do not know still reads.
  function label(prefix, code, fallback) {
    if (lang === 'zh-CN' && fallback) return fallback;
    const key = prefix + '.' + code;
    return Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : (fallback || code || '');
  }

  return { load, t, label, get lang() { return lang; }, other() { return lang === 'zh-CN' ? 'en' : 'zh-CN'; } };
})();
