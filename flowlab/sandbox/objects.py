"""Web API objects shaped like Spotify's: user, artist, playlist and paging."""

from __future__ import annotations


def user_object(user: dict, scopes: list[str], host_url: str) -> dict:
    """``GET /v1/me``: basic fields for any user token, the rest gated by scope."""
    uid = user["id"]
    body = {
        "display_name": user["display_name"],
        "external_urls": {"spotify": f"{host_url}sandbox/users/{uid}"},
        "followers": {"href": None, "total": user["followers"]},
        "href": f"{host_url}sandbox/v1/users/{uid}",
        "id": uid,
        "images": [],
        "type": "user",
        "uri": f"spotify:user:{uid}",
        "account_id": uid,
    }
    if "user-read-email" in scopes:
        body["email"] = user["email"]
    if "user-read-private" in scopes:
        body["country"] = user["country"]
        body["product"] = user["product"]
        body["explicit_content"] = {
            "filter_enabled": user["explicit_filter_enabled"],
            "filter_locked": user["explicit_filter_locked"],
        }
    return body


def artist_object(artist: dict, host_url: str) -> dict:
    """A full artist object (``GET /v1/artists/{id}``)."""
    aid = artist["id"]
    return {
        "external_urls": {"spotify": f"{host_url}sandbox/artists/{aid}"},
        "followers": {"href": None, "total": artist["followers"]},
        "genres": artist["genres"],
        "href": f"{host_url}sandbox/v1/artists/{aid}",
        "id": aid,
        "images": [],
        "name": artist["name"],
        "popularity": artist["popularity"],
        "type": "artist",
        "uri": f"spotify:artist:{aid}",
    }


def playlist_object(playlist: dict, owner: dict, host_url: str) -> dict:
    """A simplified playlist object, as in ``GET /v1/me/playlists``."""
    pid = playlist["id"]
    href = f"{host_url}sandbox/v1/playlists/{pid}"
    return {
        "collaborative": playlist["collaborative"],
        "description": playlist["description"],
        "external_urls": {"spotify": f"{host_url}sandbox/playlists/{pid}"},
        "href": href,
        "id": pid,
        "images": [],
        "name": playlist["name"],
        "owner": {
            "display_name": owner["display_name"],
            "id": owner["id"],
            "type": "user",
            "uri": f"spotify:user:{owner['id']}",
        },
        "public": playlist["public"],
        "items": {"href": f"{href}/items", "total": playlist["tracks"]},
        "type": "playlist",
        "uri": f"spotify:playlist:{pid}",
    }


def paging(items: list, href: str, limit: int) -> dict:
    """A paging object holding the first ``limit`` items."""
    return {
        "href": href,
        "items": items[:limit],
        "limit": limit,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": len(items),
    }
