// The welcome page: suggest an id, then open the chat page as that id (passing ?token= along).
const ANIMALS = ['otter', 'fox', 'lynx', 'heron', 'panda', 'koala', 'puffin', 'orca', 'wren', 'ibex'];

const input = document.getElementById('my-id');
const form = document.getElementById('start-form');

if (!input.value) {
  const animal = ANIMALS[Math.floor(Math.random() * ANIMALS.length)];
  input.value = `${animal}-${Math.floor(100 + Math.random() * 900)}`;
}
input.select();

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = input.value.trim();
  if (!id) return;
  const target = new URL('/static/chat.html', window.location.href);
  target.searchParams.set('id', id);
  const token = new URLSearchParams(window.location.search).get('token');
  if (token !== null) target.searchParams.set('token', token);
  window.location.assign(target);
});
