# CPack: the storeqr-kiosk and storeqr-hq Debian packages (one component
# each). Included by firmware/CMakeLists.txt when SQR_PACKAGE=ON, so the
# everyday build is untouched. Build with: cmake -DSQR_PACKAGE=ON ... &&
# cmake --build . && cpack -G DEB
set(fw ${CMAKE_CURRENT_LIST_DIR}/..)

# --- storeqr-kiosk ---
foreach(t storeqr-kiosk storeqr-sync storeqr storeqr-update)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION bin COMPONENT kiosk)
  endif()
endforeach()
install(FILES ${fw}/systemd/storeqr-kiosk.service ${fw}/systemd/storeqr-sync.service
              ${fw}/systemd/storeqr-sync.timer ${fw}/systemd/storeqr-sync-daemon.service
              ${fw}/systemd/storeqr-update-recover.service
        DESTINATION lib/systemd/system COMPONENT kiosk)
install(FILES ${fw}/systemd/fallback/cage.conf ${fw}/systemd/fallback/x11.conf
        DESTINATION share/doc/storeqr-kiosk/fallback COMPONENT kiosk)
install(FILES ${fw}/README.md DESTINATION share/doc/storeqr-kiosk COMPONENT kiosk)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/ DESTINATION share/storeqr/assets COMPONENT kiosk)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/kiosk/kiosk.env ${CMAKE_CURRENT_LIST_DIR}/kiosk/sync.env
        DESTINATION /etc/storeqr COMPONENT kiosk)

# --- storeqr-hq ---
if(TARGET storeqr-hq)
  install(TARGETS storeqr-hq RUNTIME DESTINATION bin COMPONENT hq)
endif()
install(TARGETS storeqr-bundle RUNTIME DESTINATION bin COMPONENT hq)
install(FILES ${fw}/systemd/storeqr-hq.service DESTINATION lib/systemd/system COMPONENT hq)
install(FILES ${fw}/README.md DESTINATION share/doc/storeqr-hq COMPONENT hq)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/hq/hq.env DESTINATION /etc/storeqr COMPONENT hq)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_VENDOR "StoreQR")
set(CPACK_PACKAGE_CONTACT "StoreQR engineering <eng@storeqr.invalid>")
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
# Library dependencies from the binaries' ELF needs; the rest by hand.
set(CPACK_DEBIAN_KIOSK_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_HQ_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_KIOSK_PACKAGE_DEPENDS "adduser, systemd, fonts-wqy-microhei | fonts-noto-cjk")
set(CPACK_DEBIAN_HQ_PACKAGE_DEPENDS "adduser, systemd")
set(CPACK_DEBIAN_HQ_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_KIOSK_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/kiosk/postinst ${CMAKE_CURRENT_LIST_DIR}/kiosk/prerm
    ${CMAKE_CURRENT_LIST_DIR}/kiosk/postrm ${CMAKE_CURRENT_LIST_DIR}/kiosk/conffiles)
set(CPACK_DEBIAN_HQ_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/hq/postinst ${CMAKE_CURRENT_LIST_DIR}/hq/prerm
    ${CMAKE_CURRENT_LIST_DIR}/hq/postrm ${CMAKE_CURRENT_LIST_DIR}/hq/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
