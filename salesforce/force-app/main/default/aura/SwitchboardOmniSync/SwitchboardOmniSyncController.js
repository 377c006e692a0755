({
    // Every handler turns its event into a {type, payload} input for SwitchboardOmniSync.decide();
    // the helper queues inputs until the static resource has loaded.

    onScriptsLoaded: function (cmp, event, helper) {
        helper.start(cmp);
    },

    // lightning:messageChannel (SwitchboardPresence__c): presence / mapping from the phone, and our own echoes
    onMessage: function (cmp, message, helper) {
        if (!message) {
            return;
        }
        helper.dispatch(cmp, { type: message.getParam('type'), payload: message.getParam('payload') });
    },

    onStatusChanged: function (cmp, event, helper) {
        helper.dispatch(cmp, {
            type: 'omniStatusChanged',
            payload: {
                statusId: event.getParam('statusId'),
                statusName: event.getParam('statusName'),
                statusApiName: event.getParam('statusApiName'),
                reason: event.getParam('reason')
            }
        });
    },

    onLogout: function (cmp, event, helper) {
        helper.dispatch(cmp, { type: 'omniLogout', payload: {} });
    },

    onLoginSuccess: function (cmp, event, helper) {
        helper.dispatch(cmp, { type: 'omniLoginSuccess', payload: { statusId: event.getParam('statusId') } });
    },

    onWorkloadChanged: function (cmp, event, helper) {
        helper.dispatch(cmp, {
            type: 'omniWorkloadChanged',
            payload: {
                configuredCapacity: event.getParam('configuredCapacity'),
                previousWorkload: event.getParam('previousWorkload'),
                newWorkload: event.getParam('newWorkload')
            }
        });
    }
})
