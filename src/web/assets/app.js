// medcred pages: the only script. Progressive enhancement; every page works without it.
'use strict'
;(function () {
  // A pending wallet request: ask the server every two seconds, reload when the wallet has answered.
  var poll = document.querySelector('[data-poll]')
  if (poll) {
    var url = poll.getAttribute('data-poll')
    var timer = setInterval(function () {
      fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null })
        .then(function (s) {
          if (s && s.status !== 'pending') { clearInterval(timer); window.location.reload() }
        })
        .catch(function () {})
    }, 2000)
  }
  // "Upload a file": read it into the text area it names, so the same form submits it.
  var inputs = document.querySelectorAll('input[type=file][data-fill]')
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener('change', function (e) {
      var input = e.target
      var target = document.getElementById(input.getAttribute('data-fill'))
      var file = input.files && input.files[0]
      if (!target || !file) return
      file.text().then(function (t) { target.value = t.trim() })
    })
  }
})()
