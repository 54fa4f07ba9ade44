"""linli's service kernel: configuration, the WeChat protocol adapter, dispatch, outbound client and CLI."""
