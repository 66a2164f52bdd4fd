raise ValueError("init failed on purpose")
