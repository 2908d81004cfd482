"""Referrals and linkage to care: agency directory, follow-up queue, linkage outcomes."""
