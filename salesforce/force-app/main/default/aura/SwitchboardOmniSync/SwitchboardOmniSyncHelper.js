({
    // Runs SwitchboardOmniSync.decide() and carries out its actions. Toolkit errors are logged with
    // console.error and fed back to decide() as results; nothing here throws into the Aura framework.

    logic: function () {
        return typeof window !== 'undefined' && window.SwitchboardOmniSync ? window.SwitchboardOmniSync : null;
    },

    start: function (cmp) {
        var logic = this.logic();
        var inbox;
        var i;
        if (!logic) {
            console.error('SwitchboardOmniSync: static resource SwitchboardOmniSyncLogic did not load');
            cmp.set('v.statusText', 'Omni sync is not available (its script did not load).');
            return;
        }
        if (!cmp.get('v.syncState')) {
            cmp.set('v.syncState', logic.initialState());
        }
        cmp.set('v.logicReady', true);
        inbox = cmp.get('v.inbox') || [];
        cmp.set('v.inbox', []);
        for (i = 0; i < inbox.length; i++) {
            this.dispatch(cmp, inbox[i]);
        }
        this.readCurrentStatus(cmp);
    },

    /** Learn Omni's status once at start (rejects or has no statusId when the agent is not logged in). */
    readCurrentStatus: function (cmp) {
        var self = this;
        var omni = cmp.find('omniToolkit');
        try {
            omni.getServicePresenceStatusId().then($A.getCallback(function (result) {
                self.dispatch(cmp, {
                    type: 'omniCurrentStatus',
                    payload: { statusId: result && result.statusId, statusApiName: result && result.statusApiName }
                });
            }))['catch']($A.getCallback(function (error) {
                // the usual reason is "not logged in to Omni-Channel": leave it unknown, do not guess
                console.error('SwitchboardOmniSync: getServicePresenceStatusId failed', error);
                self.dispatch(cmp, { type: 'omniCurrentStatus', payload: { statusId: null, error: String(error) } });
            }));
        } catch (e) {
            console.error('SwitchboardOmniSync: getServicePresenceStatusId failed', e);
        }
    },

    dispatch: function (cmp, input) {
        var logic = this.logic();
        var result;
        var i;
        if (!cmp || !cmp.isValid()) {
            return;
        }
        if (!logic || !cmp.get('v.logicReady')) {
            cmp.set('v.inbox', (cmp.get('v.inbox') || []).concat([input]));
            return;
        }
        try {
            result = logic.decide(cmp.get('v.syncState'), input);
        } catch (e) {
            console.error('SwitchboardOmniSync: decide failed for ' + (input && input.type), e);
            return;
        }
        cmp.set('v.syncState', result.state);
        for (i = 0; i < result.actions.length; i++) {
            this.run(cmp, result.actions[i]);
        }
    },

    run: function (cmp, action) {
        switch (action.op) {
            case 'setStatus':
                this.setStatus(cmp, action.statusId);
                break;
            case 'logout':
                this.logout(cmp);
                break;
            case 'publish':
                this.publish(cmp, action.message);
                break;
            default:
                break;
        }
    },

    setStatus: function (cmp, statusId) {
        var self = this;
        var omni = cmp.find('omniToolkit');
        var failed = function (error) {
            console.error('SwitchboardOmniSync: setServicePresenceStatus(' + statusId + ') failed', error);
            cmp.set('v.statusText', 'Could not set your Omni-Channel status.');
            self.dispatch(cmp, { type: 'omniSetResult', payload: { ok: false, statusId: statusId, error: String(error) } });
        };
        try {
            omni.setServicePresenceStatus({ statusId: statusId }).then($A.getCallback(function (result) {
                cmp.set('v.statusText', 'Omni-Channel status set to ' + ((result && result.statusName) || statusId) + '.');
                self.dispatch(cmp, {
                    type: 'omniSetResult',
                    payload: { ok: true, statusId: statusId, statusApiName: result && result.statusApiName }
                });
            }))['catch']($A.getCallback(failed));
        } catch (e) {
            failed(e);
        }
    },

    logout: function (cmp) {
        var self = this;
        var omni = cmp.find('omniToolkit');
        var failed = function (error) {
            console.error('SwitchboardOmniSync: Omni-Channel logout failed', error);
            self.dispatch(cmp, { type: 'omniLogoutResult', payload: { ok: false, error: String(error) } });
        };
        try {
            omni.logout().then($A.getCallback(function () {
                cmp.set('v.statusText', 'Logged out of Omni-Channel.');
                self.dispatch(cmp, { type: 'omniLogoutResult', payload: { ok: true } });
            }))['catch']($A.getCallback(failed));
        } catch (e) {
            failed(e);
        }
    },

    publish: function (cmp, message) {
        try {
            cmp.find('presenceChannel').publish(message);
        } catch (e) {
            console.error('SwitchboardOmniSync: publish failed', e);
        }
    }
})
