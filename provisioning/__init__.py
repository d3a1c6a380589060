"""SCIM 2.0 provisioning of the directory (RFC 7643/7644) at /scim/v2/."""
