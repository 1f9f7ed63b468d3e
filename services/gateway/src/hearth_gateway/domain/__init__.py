"""The gateway's pure rules: routing, rate limits, cross-origin policy, hop headers, OpenAPI."""
