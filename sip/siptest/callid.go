package siptest

// CallID is the SIP Call-ID of the call, the key the hotline's call records
// carry as sip_call_id.
func (c *PhoneCall) CallID() string {
	id := c.sess.InviteRequest.CallID()
	if id == nil {
		return ""
	}
	return id.Value()
}
