# CPack: the storeqr-kiosk and storeqr-hq Debian packages (one component
# each). Included by firmware/CMakeLists.txt when SQR_PACKAGE=ON (the
# default outside sanitizer and fuzz builds). Build with:
#   cmake --build BUILD && (cd BUILD && cpack -G DEB)
# tests/firmware/test_deb.sh builds, installs and purges them in a chroot.
#
# The kiosk package and the A/B slots (firmware/README.md "Packages"):
# the package ships the factory release in /usr/lib/storeqr/release (bin/,
# share/storeqr/assets) and its postinst copies it into a slot with
# `storeqr-update seed` when it is newer than what runs. /usr/bin/storeqr,
# storeqr-kiosk, storeqr-sync and /usr/share/storeqr/assets are symbolic
# links into /opt/storeqr/current, so the units keep /usr/bin and a signed
# bundle takes effect like a package upgrade. storeqr-update itself is not
# in a slot: the updater is never replaced by what it installs.
set(fw ${CMAKE_CURRENT_LIST_DIR}/..)
set(pkg ${CMAKE_CURRENT_LIST_DIR})
set(release lib/storeqr/release) # under /usr
set(links ${CMAKE_BINARY_DIR}/firmware/pkg-links)
file(MAKE_DIRECTORY ${links})

# --- storeqr-kiosk ---
# storeqr (the CLI) is defined in tools/, added after firmware/: named by
# generator expression, resolved once every directory is read.
foreach(t storeqr-kiosk storeqr-sync storeqr)
  install(PROGRAMS $<TARGET_FILE:${t}> DESTINATION ${release}/bin COMPONENT kiosk)
  file(CREATE_LINK /opt/storeqr/current/bin/${t} ${links}/${t} SYMBOLIC)
  install(FILES ${links}/${t} DESTINATION bin COMPONENT kiosk)
endforeach()
install(TARGETS storeqr-update RUNTIME DESTINATION bin COMPONENT kiosk)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/ DESTINATION ${release}/share/storeqr/assets
        COMPONENT kiosk)
file(CREATE_LINK /opt/storeqr/current/share/storeqr/assets ${links}/assets SYMBOLIC)
install(FILES ${links}/assets DESTINATION share/storeqr COMPONENT kiosk)
install(FILES ${fw}/systemd/storeqr-kiosk.service ${fw}/systemd/storeqr-sync.service
              ${fw}/systemd/storeqr-sync.timer ${fw}/systemd/storeqr-sync-daemon.service
              ${fw}/systemd/storeqr-update-recover.service
              ${fw}/systemd/storeqr-update-queue.path ${fw}/systemd/storeqr-update-queue.service
        DESTINATION lib/systemd/system COMPONENT kiosk)
install(FILES ${fw}/polkit/50-storeqr-sync-now.rules DESTINATION share/polkit-1/rules.d
        COMPONENT kiosk)
install(FILES ${fw}/systemd/fallback/cage.conf ${fw}/systemd/fallback/x11.conf
        DESTINATION share/doc/storeqr-kiosk/fallback COMPONENT kiosk)
install(FILES ${fw}/README.md DESTINATION share/doc/storeqr-kiosk COMPONENT kiosk)
install(FILES ${pkg}/kiosk/kiosk.env ${pkg}/kiosk/sync.env DESTINATION /etc/storeqr
        COMPONENT kiosk)

# --- storeqr-hq ---
if(TARGET storeqr-hq)
  install(TARGETS storeqr-hq RUNTIME DESTINATION bin COMPONENT hq)
endif()
install(TARGETS storeqr-bundle RUNTIME DESTINATION bin COMPONENT hq)
install(FILES ${fw}/systemd/storeqr-hq.service ${fw}/systemd/storeqr-hq@.service
        DESTINATION lib/systemd/system COMPONENT hq)
install(FILES ${fw}/README.md ${fw}/hq/haproxy.cfg DESTINATION share/doc/storeqr-hq COMPONENT hq)
install(FILES ${pkg}/hq/hq.env DESTINATION /etc/storeqr COMPONENT hq)

# Maintainer scripts: the kiosk's postinst needs the package version (the
# factory release's version for `storeqr-update seed`).
set(SQR_PKG_VERSION ${PROJECT_VERSION})
set(scripts ${CMAKE_BINARY_DIR}/firmware/pkg-scripts)
foreach(part kiosk hq)
  foreach(s postinst prerm postrm)
    configure_file(${pkg}/${part}/${s} ${scripts}/${part}/${s} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
  configure_file(${pkg}/${part}/conffiles ${scripts}/${part}/conffiles COPYONLY)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_VENDOR "StoreQR")
set(CPACK_PACKAGE_CONTACT "StoreQR engineering <eng@storeqr.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL kiosk hq)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_KIOSK_PACKAGE_NAME storeqr-kiosk)
set(CPACK_DEBIAN_HQ_PACKAGE_NAME storeqr-hq)
set(CPACK_DEBIAN_KIOSK_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_HQ_PACKAGE_SECTION net)
set(CPACK_COMPONENT_KIOSK_DESCRIPTION "StoreQR in-store QR check-in kiosk (UI, sync, updates)")
set(CPACK_COMPONENT_HQ_DESCRIPTION "StoreQR HQ server")
# Library dependencies from the binaries' ELF needs (dpkg-shlibdeps, from
# dpkg-dev); the rest by hand: users (adduser), units (systemd), the CJK
# font app/ui/text.c looks for, and polkitd for the "sync now" rule.
set(CPACK_DEBIAN_KIOSK_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_HQ_PACKAGE_SHLIBDEPS ON)
# libdrm2, libgbm1, libegl1: SDL dlopens them for KMSDRM (not in its ELF
# needs, so shlibdeps cannot see them).
set(CPACK_DEBIAN_KIOSK_PACKAGE_DEPENDS
    "adduser, systemd, fonts-wqy-microhei | fonts-noto-cjk, libdrm2, libgbm1, libegl1")
set(CPACK_DEBIAN_KIOSK_PACKAGE_RECOMMENDS "polkitd, libgl1-mesa-dri")
set(CPACK_DEBIAN_KIOSK_PACKAGE_SUGGESTS "cage")
set(CPACK_DEBIAN_HQ_PACKAGE_DEPENDS "adduser, systemd")
set(CPACK_DEBIAN_HQ_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_KIOSK_PACKAGE_CONTROL_EXTRA
    ${scripts}/kiosk/postinst ${scripts}/kiosk/prerm ${scripts}/kiosk/postrm
    ${scripts}/kiosk/conffiles)
set(CPACK_DEBIAN_HQ_PACKAGE_CONTROL_EXTRA
    ${scripts}/hq/postinst ${scripts}/hq/prerm ${scripts}/hq/postrm ${scripts}/hq/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
