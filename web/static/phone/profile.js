// The agent's profile on the phone page (templates/profile_select.html): choosing one makes the agent's queues
// and skill levels the profile's at once (POST /api/profile); the presence panel's queue list follows through
// the server's `presence` event. A refused change puts the select back and says why.

const select = document.getElementById('profile-select');
const panel = document.getElementById('presence');

function refused(message) {
  select.value = select.dataset.current;
  const error = document.getElementById('presence-error');
  error.textContent = message;
  error.hidden = false;
}

async function choose() {
  document.getElementById('presence-error').hidden = true;
  select.disabled = true;
  try {
    const response = await fetch('/api/profile', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': panel.dataset.csrf },
      body: JSON.stringify({ profile: select.value || null }),
    });
    const data = await response.json().catch(() => ({}));
    if (response.ok) select.dataset.current = data.profile || '';
    else refused(data.message || 'The profile was not changed.');
  } catch {
    refused('The profile was not changed: no connection to the server.');
  } finally {
    select.disabled = false;
  }
}

if (select && panel) select.addEventListener('change', choose);
