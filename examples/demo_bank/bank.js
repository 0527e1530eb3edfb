// Northwind Bank demo behaviour: consent banner and form confirmations.
// Nothing here is sent anywhere; the forms only show a confirmation.
(function () {
  'use strict';

  var rv = function () { return window.replayvault; };

  // Consent banner: shown until the visitor decides, on every page.
  function setupConsent() {
    var banner = document.getElementById('consent');
    if (!banner) return;
    var state = rv() ? rv().consent.state() : 'pending';
    banner.hidden = state !== 'pending';
    document.getElementById('consent-accept').addEventListener('click', function () {
      banner.hidden = true; // first, so the first full snapshot does not show the banner
      if (rv()) rv().consent.grant();
    });
    document.getElementById('consent-decline').addEventListener('click', function () {
      banner.hidden = true;
      if (rv()) rv().consent.refuse();
    });
  }

  function last4(text) {
    var digits = String(text).replace(/\s+/g, '');
    return digits.slice(-4);
  }

  // Each form: on submit, hide it and show its confirmation with a short summary.
  var confirmations = {
    'login-form': function () {
      window.location.href = 'index.html';
      return false;
    },
    'transfer-form': function (f) {
      // A funnel step for replayvault (event:transfer.confirmed); names only, never values.
      if (window.replayvault && window.replayvault.track) window.replayvault.track('transfer.confirmed');
      // Deliberate slip, as real sites make them: the confirmation repeats the payee's full IBAN in
      // a box without rr-mask. The server masks it and records a masking incident.
      return 'Transfer of EUR ' + Number(f.amount.value || 0).toFixed(2) + ' to IBAN ' + f.iban.value +
        ' is scheduled for today.';
    },
    'card-form': function (f) {
      return 'Card ending ' + last4(f.number.value) + ' was added to your wallet.';
    },
    'crypto-form': function (f) {
      return 'Withdrawal of ' + f.amount.value + ' BTC is being processed. Expect 1-3 network confirmations.';
    },
    'kyc-form': function () {
      return 'Thank you. We will verify your details within one business day.';
    },
  };

  function setupForms() {
    Object.keys(confirmations).forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) return;
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var message = confirmations[id](form);
        if (message === false) return;
        var box = document.getElementById(id.replace('-form', '-done'));
        box.querySelector('p').textContent = message;
        form.closest('.panel').hidden = true;
        box.hidden = false;
        window.scrollTo({ top: 0, behavior: 'smooth' });
      });
    });
  }

  function markActiveNav() {
    var page = window.location.pathname.split('/').pop() || 'index.html';
    document.querySelectorAll('.nav a').forEach(function (a) {
      if (a.getAttribute('href') === page) a.classList.add('active');
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    setupConsent();
    setupForms();
    markActiveNav();
  });
})();
