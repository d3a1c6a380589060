"""Sign-in with the city's OpenID Connect provider, local-password policy and the sign-in audit."""
