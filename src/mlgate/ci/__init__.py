"""CI integrations: the code behind the GitHub Action's check step (`python -m mlgate.ci.github`)."""
